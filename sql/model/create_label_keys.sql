-- label_keys: a temp table with one row per account_features row on each observation night in
-- $nights, and per delinquent row (bucket not M0, not excluded) on each night in
-- $delinquent_nights, and where it went on the way to a label, narrow so that the training rows
-- (labels.sql) and their accounting (label_coverage.sql) read the label pass once. The label pass
-- itself is kept between nights in observation_labels (insert_observation_labels.sql): this reads
-- the nights from there.
--   snapshot_date, account_id, bucket: the observation night's account_features row
--   all_buckets: the night is in $nights (every account observed), else delinquent rows only
--   night_weight: 1 for a delinquent row; $current_night_weight for a current (M0) one (all the
--     observation nights over those in $nights: models.dataset.current_night_weight), so each
--     bucket weighs by its account-nights
--   label_date: months_later(snapshot_date, $horizon_months)
--   excluded: bucket in $excluded_buckets (default WO: a written-off account cannot roll forward)
--   label_snapshot_date, bucket_later: the snapshot the label is read from and its bucket; null
--     when the account has none in [label_date - 3 days, label_date] (closed and dropped out)
--   draw_bits: the row's fixed draw for the sample (observation_labels)
-- A temp table: it lives in the connection and adds nothing to the shared warehouse schema.
create or replace temp table label_keys as

with

observation_nights as (
    select
        night,
        bool_or(all_buckets) as all_buckets
    from (
        select
            cast(unnest(cast($nights as date[])) as date) as night,
            true as all_buckets
        union all
        select
            cast(unnest(cast($delinquent_nights as date[])) as date) as night,
            false as all_buckets
    )
    group by night
),

kept as (
    select
        observation_labels.*,
        observation_nights.all_buckets,
        list_contains(cast($excluded_buckets as varchar[]), observation_labels.bucket) as excluded
    from observation_labels
    inner join observation_nights on observation_labels.snapshot_date = observation_nights.night
)

select
    snapshot_date,
    account_id,
    bucket,
    label_date,
    all_buckets,
    case when bucket = 'M0' then cast($current_night_weight as double) else 1.0 end
        as night_weight,
    excluded,
    label_snapshot_date,
    bucket_later,
    draw_bits
from kept
where all_buckets or (bucket <> 'M0' and not excluded)
