-- labels: the model's training rows, DOMAIN.md §3: account_features on each observation night
-- in $nights with the roll-forward label read at the label date.
-- Label date: months_later(night, $horizon_months). The account's bucket then is taken from its
-- snapshot on that date or, when that night is missing, its latest snapshot up to 3 days before
-- (the same tolerance as bucket_1m_ago). Only snapshots dated at or before $as_of are read, so no
-- label can come from data the model could not have had; nights whose label date is after $as_of
-- have no label and are left out.
-- Population: accounts whose bucket on the night is not in $excluded_buckets (default WO: a
-- written-off account cannot roll forward). Accounts with no snapshot at the label date (closed and
-- dropped out) are left out here and counted by label_coverage.sql.
-- Sampling, stratified by bucket: every delinquent row is kept; current (M0) rows are kept at the
-- rate that makes them about $current_share of the rows (all of them when they already are or when
-- $current_share >= 1), chosen by md5 of (account, night, $seed) so the choice does not depend on
-- row order or on other rows. weight = 1 / keep rate, so weighted means stay the book's.
-- Columns: every account_features column, then
--   label_date: months_later(snapshot_date, $horizon_months)
--   label_snapshot_date: the snapshot the label was read from (label_date or up to 3 days before)
--   bucket_later: the account's bucket on label_snapshot_date
--   label: 1 when bucket_rank(bucket_later) > bucket_rank(bucket) (worse; write-off counts), else 0
--   weight: 1 / the keep rate of the row's stratum
with

observation_nights as (
    select distinct
        cast(night as date) as night,
        months_later(cast(night as date), $horizon_months) as label_date
    from (select unnest(cast($nights as date[])) as night)
),

features as (
    select
        account_features.*,
        observation_nights.label_date
    from account_features
    inner join observation_nights on account_features.snapshot_date = observation_nights.night
    where not list_contains(cast($excluded_buckets as varchar[]), account_features.bucket)
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

labelled as (
    select
        features.*,
        later.label_snapshot_date,
        later.bucket_later,
        cast(bucket_rank(later.bucket_later) > bucket_rank(features.bucket) as integer) as label,
        -- a uniform draw in [0, 1) fixed by (account, night, seed), for the sampling below: the
        -- top 32 bits of the md5 (a shift, as modulo on a 128-bit integer is slow)
        cast(
            md5_number(
                features.account_id || '|' || cast(features.snapshot_date as varchar) || '|'
                || cast($seed as varchar)
            ) >> 96 as bigint
        ) / 4294967296.0 as draw
    from features
    inner join later
        on
            features.snapshot_date = later.snapshot_date
            and features.account_id = later.account_id
    where features.label_date <= cast($as_of as date)
),

strata as (
    select
        count(*) filter (where bucket = 'M0') as current_rows,
        count(*) filter (where bucket <> 'M0') as delinquent_rows
    from labelled
),

keep_rate as (
    select
        case
            when cast($current_share as double) >= 1 or current_rows = 0 then 1.0
            else least(
                1.0,
                cast($current_share as double) / (1 - cast($current_share as double))
                * greatest(delinquent_rows, 1) / current_rows
            )
        end as current_keep_rate
    from strata
),

final as (
    select
        labelled.* exclude (draw),
        case
            when labelled.bucket = 'M0' then 1.0 / (select current_keep_rate from keep_rate)
            else 1.0
        end as weight
    from labelled
    where labelled.bucket <> 'M0' or labelled.draw < (select current_keep_rate from keep_rate)
    order by labelled.snapshot_date, labelled.account_id
)

select * from final
