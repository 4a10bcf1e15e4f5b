-- scoring_status: whether each night was scored by a champion, and if not why (degraded mode).
-- Why: a model failure never stops collections (issue 18): a night without scores runs tiers,
-- letters and the report on the delinquency bucket alone, and says so; this table is where the
-- report, the summary and a later run read that declaration. Written by account_scores.
-- Grain: one row per snapshot_date of every run of account_scores.
-- Columns:
--   snapshot_date: the night
--   scored: true when the champion scored the night (account_scores holds a row for each of its account_features rows; a night of the range without a book has none)
--   degraded: true when the night has no scores: tiers on the delinquency bucket alone, no high-risk or early-warning treatments
--   cause: why the night has no scores: not_enough_data (too few matured nights for a first model), first_model_refused (the first model failed the gate, no champion), retrain_failed (the retrain raised, no champion), scoring_failed (scoring raised), no_champion (the registry has no champion); null when scored
--   detail: the cause's particulars: the exception type and the first line of its message (at most 160 characters, never a traceback), the refused version, the missing data; null when scored
--   model_version: the champion that scored the night; null when degraded
create table if not exists scoring_status (
    snapshot_date date not null,
    scored boolean not null,
    degraded boolean not null,
    cause varchar,
    detail varchar,
    model_version varchar
)
