-- account_scores: the champion's risk of rolling forward, per account and night (DOMAIN.md §3).
-- Grain: one row per (snapshot_date, account_id) of account_features on a scored night.
-- Columns:
--   snapshot_date: the night
--   account_id: the account
--   bucket: delinquency bucket tonight (from account_features)
--   days_past_due: days past due tonight
--   probability: P(bucket worse than tonight's within horizon_months months), from the champion; null outside the model's population (written off)
--   risk_grade: A (lowest risk) to E by the configured probability cut-offs; null when unscored
--   early_warning: current (M0) and probability >= the configured early-warning threshold
--   needs_reasons: overdue (days_past_due > 0) or early_warning, and scored: reason codes are computed for these accounts
--   model_version: the registry version that scored the night
create table if not exists account_scores (
    snapshot_date date not null,
    account_id varchar not null,
    bucket varchar,
    days_past_due integer,
    probability double,
    risk_grade varchar,
    early_warning boolean not null,
    needs_reasons boolean not null,
    model_version varchar not null
)
