-- account_feature_state: each account's running feature state as of a night (state_night), kept
-- for the last few nights so a rerun of night D restarts from the state of the night before.
-- Lists hold only what is still inside the 180-day window, so a night reads a bounded state:
--   dpd_peaks: (date, dpd) of the snapshots whose DPD is above every later one (a max-queue)
--   runs_1plus / runs_31plus / runs_61plus: last date of each run of consecutive snapshots at or
--     above 1 / 31 / 61 DPD (an entry per run that reaches into the window)
--   cures / limit_changes: date of the earlier snapshot of each such consecutive pair
--   partial_payments: dates of snapshots with a payment that left DPD above 0 (90 days)
--   present: runs of consecutive days with a snapshot (first, last)
--   payments: (date, amount) of the snapshots with a payment
--   at_30d / at_90d / at_month: the latest snapshot at or before night - 30 / night - 90 /
--     one_month_earlier(night), with the values the features compare against
create table if not exists account_feature_state (
    state_night date not null,
    account_id varchar not null,
    customer_id varchar,
    last_date date,
    last_dpd integer,
    last_limit decimal(18, 2),
    last_delinquent date,
    dpd_peaks struct(on_date date, dpd integer)[],
    runs_1plus date[],
    runs_31plus date[],
    runs_61plus date[],
    cures date[],
    limit_changes date[],
    partial_payments date[],
    present struct(first_date date, last_date date)[],
    payments struct(on_date date, amount decimal(18, 2))[],
    at_30d struct(on_date date, balance decimal(18, 2), credit_limit decimal(18, 2)),
    at_90d struct(on_date date, balance decimal(18, 2), credit_limit decimal(18, 2)),
    at_month struct(on_date date, amount_due decimal(18, 2), days_past_due integer, status varchar)
)
