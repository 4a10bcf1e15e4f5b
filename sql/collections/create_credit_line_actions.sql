-- credit_line_actions: one row per account and night recommended for a limit action; columns
-- defined in sql/collections/credit_line_actions.sql, which fills it.
create table if not exists credit_line_actions (
    snapshot_date date not null,
    account_id varchar not null,
    customer_id varchar not null,
    bucket varchar,
    currency varchar,
    risk_grade varchar,
    probability double,
    utilisation double,
    credit_limit decimal(18, 2),
    balance decimal(18, 2),
    action varchar not null,
    recommended_limit decimal(18, 2),
    undrawn_limit decimal(18, 2),
    exposure_removed decimal(18, 2),
    reason varchar not null,
    reason_codes varchar,
    strategy_version varchar not null
)
