-- post_write_off_recoveries: one row per payment on a written-off account (account, night);
-- columns defined in sql/agencies/post_write_off_recoveries.sql, which fills it.
create table if not exists post_write_off_recoveries (
    snapshot_date date not null,
    account_id varchar not null,
    customer_id varchar not null,
    currency varchar not null,
    written_off_on date not null,
    payment_amount decimal(18, 2) not null,
    agency_id varchar
)
