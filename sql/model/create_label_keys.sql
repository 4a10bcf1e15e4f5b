-- label_keys: a temp table with one row per account_features row on each observation night in
-- $nights, and per delinquent row (bucket not M0, not excluded) on each night in
-- $delinquent_nights, and where it went on the way to a label (DOMAIN.md §3), narrow so that the
-- training rows (labels.sql) and their accounting (label_coverage.sql) read the label pass once.
-- Label date: months_later(night, $horizon_months). The account's bucket then is taken from its
-- snapshot on that date or, when that night is missing, its latest snapshot up to 3 days before
-- (the same tolerance as bucket_1m_ago). Only snapshots dated at or before $as_of are read, so no
-- label can come from data the model could not have had.
--   snapshot_date, account_id, bucket: the observation night's account_features row
--   all_buckets: the night is in $nights (every account observed), else delinquent rows only
--   night_weight: 1 for a delinquent row; $current_night_weight for a current (M0) one (all the
--     observation nights over those in $nights: models.dataset.current_night_weight), so each
--     bucket weighs by its account-nights
--   label_date: months_later(snapshot_date, $horizon_months)
--   excluded: bucket in $excluded_buckets (default WO: a written-off account cannot roll forward)
--   label_snapshot_date, bucket_later: the snapshot the label is read from and its bucket; null
--     when the account has none in [label_date - 3 days, label_date] (closed and dropped out)
-- A temp table: it lives in the connection and adds nothing to the shared warehouse schema.
create or replace temp table label_keys as

with

observation_nights as (
    select
        night,
        months_later(night, $horizon_months) as label_date,
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

features as (
    select
        account_features.snapshot_date,
        account_features.account_id,
        account_features.bucket,
        observation_nights.label_date,
        observation_nights.all_buckets,
        case
            when account_features.bucket = 'M0' then cast($current_night_weight as double)
            else 1.0
        end as night_weight,
        list_contains(cast($excluded_buckets as varchar[]), account_features.bucket) as excluded
    from account_features
    inner join observation_nights on account_features.snapshot_date = observation_nights.night
    where
        observation_nights.all_buckets
        or (
            account_features.bucket <> 'M0'
            and not list_contains(cast($excluded_buckets as varchar[]), account_features.bucket)
        )
),

label_days as (
    -- the label date and the 3 days before it: an equality join reads only those snapshots
    select
        night,
        cast(unnest(generate_series(label_date - 3, label_date, interval 1 day)) as date) as day
    from observation_nights
),

label_snapshots as (
    -- only the observed accounts' snapshots: a delinquent-only night reads no current account
    select
        label_days.night,
        account_snapshots.account_id,
        account_snapshots.snapshot_date,
        delinquency_bucket(account_snapshots.days_past_due, account_snapshots.status)
            as bucket_later
    from label_days
    inner join account_snapshots on account_snapshots.snapshot_date = label_days.day
    semi join features
        on
            features.snapshot_date = label_days.night
            and features.account_id = account_snapshots.account_id
    where account_snapshots.snapshot_date <= cast($as_of as date)
),

later as (
    select
        night as snapshot_date,
        account_id,
        max(snapshot_date) as label_snapshot_date,
        arg_max(bucket_later, snapshot_date) as bucket_later
    from label_snapshots
    group by night, account_id
)

select
    features.snapshot_date,
    features.account_id,
    features.bucket,
    features.label_date,
    features.all_buckets,
    features.night_weight,
    features.excluded,
    later.label_snapshot_date,
    later.bucket_later
from features
left join later
    on
        features.snapshot_date = later.snapshot_date
        and features.account_id = later.account_id
