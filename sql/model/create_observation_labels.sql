-- observation_labels: where each account of a matured observation night went on the way to its
-- label (DOMAIN.md §3), kept between nights: a night's label pass (its account_features rows
-- joined with the snapshots around its label date) is done once, when the label matures, and
-- the retrain, the gate and the nightly monitoring read it from here. A night is recomputed when
-- a snapshot night it read is landed again, or the label rule changes
-- (observation_label_nights).
--   snapshot_date, account_id, bucket: the observation night's account_features row
--   label_date: months_later(snapshot_date, horizon_months)
--   label_snapshot_date, bucket_later: the snapshot the label is read from (the label date's,
--     else the latest up to 3 days before it) and its bucket; null when the account has none
--     then (closed and dropped out)
--   draw_bits: the top 32 bits of md5(account_id|snapshot_date|seed), the row's fixed draw for
--     the training sample (labels.sql)
create table if not exists observation_labels (
    snapshot_date date not null,
    account_id varchar not null,
    bucket varchar,
    label_date date not null,
    label_snapshot_date date,
    bucket_later varchar,
    draw_bits uinteger not null
)
