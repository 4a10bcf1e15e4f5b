-- cure_rates: one row per night, tier and treatment; columns defined in
-- sql/collections/cure_rates.sql, which fills it.
create table if not exists cure_rates (
    snapshot_date date not null,
    tier varchar not null,
    treatment varchar not null,
    contacts_tonight bigint,
    contacts bigint,
    paid_7d bigint,
    cured_7d bigint,
    paid_rate_7d double,
    cure_rate_7d double,
    contacts_30d bigint,
    paid_30d bigint,
    cured_30d bigint,
    paid_rate_30d double,
    cure_rate_30d double,
    cohort_start_7d date,
    cohort_end_7d date,
    cohort_start_30d date,
    cohort_end_30d date
)
