-- account_reason_codes: why the model rates an account risky, for collectors and letters.
-- Grain: one row per (snapshot_date, account_id, rank) for accounts with needs_reasons in
-- account_scores; up to three ranks, only features that raise the risk (contribution > 0).
-- Columns:
--   snapshot_date: the night
--   account_id: the account
--   rank: 1 = the feature raising the risk most
--   feature: the account_features column the reason is about
--   contribution: its exact (TreeSHAP) contribution to the log-odds of rolling forward
--   value: the account's value of that feature tonight, as text
--   reason_zh: the reason as a plain zh-CN phrase (models/reason_phrases.yaml)
--   reason_en: the same in en-US
--   model_version: the registry version that explained it
create table if not exists account_reason_codes (
    snapshot_date date not null,
    account_id varchar not null,
    rank integer not null,
    feature varchar not null,
    contribution double not null,
    value varchar,
    reason_zh varchar not null,
    reason_en varchar not null,
    model_version varchar not null
)
