-- label_coverage: per observation night in $nights, where every account of account_features went
-- on the way to a label (before sampling), so nothing is dropped silently.
-- Same label date, 3-day tolerance, $as_of cut-off and $excluded_buckets as labels.sql.
--   snapshot_date: the observation night
--   label_date: months_later(snapshot_date, $horizon_months)
--   accounts: accounts in account_features that night
--   excluded_bucket: accounts in $excluded_buckets that night (default WO), not modelled
--   absent_at_label_date: modelled accounts with no snapshot in [label_date - 3 days, label_date]
--   labelled: modelled accounts with a label
--   rolled_forward: labelled accounts whose bucket got worse (label 1)
with

observation_nights as (
    select distinct
        cast(night as date) as night,
        months_later(cast(night as date), $horizon_months) as label_date
    from (select unnest(cast($nights as date[])) as night)
),

features as (
    select
        account_features.snapshot_date,
        account_features.account_id,
        account_features.bucket,
        observation_nights.label_date,
        list_contains(cast($excluded_buckets as varchar[]), account_features.bucket) as excluded
    from account_features
    inner join observation_nights on account_features.snapshot_date = observation_nights.night
),

label_days as (
    -- the label date and the 3 days before it: an equality join reads only those snapshots
    select
        night,
        cast(unnest(generate_series(label_date - 3, label_date, interval 1 day)) as date) as day
    from observation_nights
),

label_snapshots as (
    select
        label_days.night,
        account_snapshots.account_id,
        account_snapshots.snapshot_date,
        delinquency_bucket(account_snapshots.days_past_due, account_snapshots.status)
            as bucket_later
    from label_days
    inner join account_snapshots on account_snapshots.snapshot_date = label_days.day
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
),

final as (
    select
        features.snapshot_date,
        any_value(features.label_date) as label_date,
        count(*) as accounts,
        count(*) filter (where features.excluded) as excluded_bucket,
        count(*) filter (where not features.excluded and later.account_id is null)
            as absent_at_label_date,
        count(later.account_id) filter (where not features.excluded) as labelled,
        count(*) filter (
            where not features.excluded
            and bucket_rank(later.bucket_later) > bucket_rank(features.bucket)
        ) as rolled_forward
    from features
    left join later
        on
            features.snapshot_date = later.snapshot_date
            and features.account_id = later.account_id
    group by features.snapshot_date
    order by features.snapshot_date
)

select * from final
