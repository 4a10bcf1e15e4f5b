-- promises: the promise ledger, one row per promise to pay; columns defined in
-- sql/collections/promises.sql, which fills it.
create table if not exists promises (
    promise_id varchar not null,
    source varchar not null,
    source_id varchar not null,
    account_id varchar,
    customer_id varchar not null,
    currency varchar,
    made_at timestamp with time zone,
    promised_night date not null,
    promised_amount decimal(18, 2),
    promised_date date,
    due_by date,
    agent_id varchar,
    agency_id varchar,
    tier_at_promise varchar,
    status varchar not null,
    paid_amount decimal(18, 2),
    resolved_night date,
    superseded_by varchar,
    as_of_night date not null
)
