-- The label pass of the matured observation nights $nights, for every account on them, into
-- observation_labels (columns there). Label date: months_later(night, $horizon_months); the
-- account's bucket then is taken from its snapshot on that date or, when that night is missing,
-- its latest snapshot up to 3 days before (the same tolerance as bucket_1m_ago). Only snapshots
-- dated at or before $as_of are read, and only nights whose label date is, so no label comes from
-- data the model could not have had; such a label never changes later unless one of the snapshot
-- nights it read is landed again (stale_observation_label_nights.sql).
insert into observation_labels

with

observation_nights as (
    select
        night,
        months_later(night, $horizon_months) as label_date
    from (select distinct cast(unnest(cast($nights as date[])) as date) as night)
    where months_later(night, $horizon_months) <= cast($as_of as date)
),

features as (
    select
        account_features.snapshot_date,
        account_features.account_id,
        account_features.bucket,
        observation_nights.label_date
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
    later.label_snapshot_date,
    later.bucket_later,
    -- a uniform draw fixed by (account, night, seed): the top 32 bits of the md5 (a shift, as
    -- modulo on a 128-bit integer is slow)
    cast(
        md5_number(
            features.account_id || '|' || cast(features.snapshot_date as varchar) || '|'
            || cast($seed as varchar)
        ) >> 96 as uinteger
    ) as draw_bits
from features
left join later
    on
        features.snapshot_date = later.snapshot_date
        and features.account_id = later.account_id
