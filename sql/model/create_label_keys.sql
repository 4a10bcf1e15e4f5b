-- label_keys: one row per account_features row on each observation night of label_nights
-- marked all_buckets, and per delinquent row (bucket not M0, not excluded) on its other nights,
-- and where it went on the way to a label, narrow so that the training rows
-- (labels.sql) and their accounting (label_coverage.sql) read the label pass once. The label pass
-- itself is kept between nights in observation_labels (insert_observation_labels.sql): this reads
-- the nights from there.
--   snapshot_date, account_id, bucket: the observation night's account_features row
--   all_buckets: every account of the night is observed, else delinquent rows only
--   night_weight: 1 for a delinquent row; the nights' current_night_weight for a current (M0)
--     one (models.dataset.current_night_weight), so each bucket weighs by its account-nights
--   label_date: months_later(snapshot_date, horizon_months)
--   excluded: bucket in the nights' excluded_buckets (default WO: a written-off account cannot
--     roll forward)
--   label_snapshot_date, bucket_later: the snapshot the label is read from and its bucket; null
--     when the account has none in [label_date - 3 days, label_date] (closed and dropped out)
--   draw_bits: the row's fixed draw for the sample (observation_labels)
-- A temp view over observation_labels and label_nights (create_label_nights.sql, which holds the
-- nights and the parameters): it lives in the connection and adds nothing to the shared warehouse
-- schema, and copies none of the rows.
create or replace temp view label_keys as

with

kept as (
    select
        observation_labels.*,
        label_nights.all_buckets,
        label_nights.current_night_weight,
        list_contains(label_nights.excluded_buckets, observation_labels.bucket) as excluded
    from observation_labels
    inner join label_nights on observation_labels.snapshot_date = label_nights.night
)

select
    snapshot_date,
    account_id,
    bucket,
    label_date,
    all_buckets,
    case when bucket = 'M0' then current_night_weight else 1.0 end as night_weight,
    excluded,
    label_snapshot_date,
    bucket_later,
    draw_bits
from kept
where all_buckets or (bucket <> 'M0' and not excluded)
