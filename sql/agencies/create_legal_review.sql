-- legal_review: one row per account in write-off review (tier T5) and night; columns defined in
-- sql/agencies/legal_review.sql, which fills it.
create table if not exists legal_review (
    snapshot_date date not null,
    account_id varchar not null,
    customer_id varchar not null,
    jurisdiction varchar,
    currency varchar,
    bucket varchar,
    balance decimal(18, 2),
    last_right_party_contact date,
    address_deliverable boolean,
    contactable boolean,
    time_barred boolean,
    track varchar,
    track_reason varchar,
    strategy_version varchar not null
)
