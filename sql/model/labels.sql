-- labels: the model's training rows, DOMAIN.md §3: account_features on the observation nights of
-- label_keys (create_label_keys.sql, which says how the label date and the bucket then are read)
-- with the roll-forward label. Nights whose label date is after $as_of have no label and are left
-- out; so are excluded buckets and accounts absent at the label date (counted by
-- label_coverage.sql).
-- Sampling, stratified by bucket: every delinquent row is kept; current (M0) rows are kept at the
-- rate that makes them about $current_share of the rows (all of them when they already are or when
-- $current_share >= 1), chosen by md5 of (account, night, seed) (observation_labels.draw_bits)
-- so the choice does not depend on row order or on other rows. Then, when more than $max_rows
-- (> 0) rows are kept, every row is kept at one further rate, cap_rate, with the same draw (a
-- current row kept at the cap was kept without it), so the training set's size is bounded
-- whatever the book's size or history.
-- weight = night_weight / keep rate, so weighted means stay the book's: a current row stands for
-- the nights between its observation nights (create_label_keys.sql), and $current_share is of
-- the rows on the nights observed for every bucket.
-- Columns: every account_features column, then
--   label_date: months_later(snapshot_date, $horizon_months)
--   label_snapshot_date: the snapshot the label was read from (label_date or up to 3 days before)
--   bucket_later: the account's bucket on label_snapshot_date
--   label: 1 when bucket_rank(bucket_later) > bucket_rank(bucket) (worse; write-off counts), else 0
--   weight: night_weight / (the keep rate of the row's stratum x cap_rate)
with

labelled as (
    select
        label_keys.snapshot_date,
        label_keys.account_id,
        label_keys.bucket,
        label_keys.label_date,
        label_keys.label_snapshot_date,
        label_keys.bucket_later,
        label_keys.night_weight,
        label_keys.all_buckets,
        cast(bucket_rank(label_keys.bucket_later) > bucket_rank(label_keys.bucket) as integer)
            as label,
        -- a uniform draw in [0, 1) fixed by (account, night, seed): observation_labels.draw_bits
        cast(label_keys.draw_bits as bigint) / 4294967296.0 as draw
    from label_keys
    where
        not label_keys.excluded
        and label_keys.label_snapshot_date is not null
        and label_keys.label_date <= cast($as_of as date)
),

strata as (
    select
        count(*) filter (where bucket = 'M0') as current_rows,
        count(*) filter (where bucket <> 'M0') as delinquent_rows,
        count(*) filter (where bucket <> 'M0' and all_buckets) as delinquent_rows_all_buckets
    from labelled
),

keep_rate as (
    select
        current_rows,
        delinquent_rows,
        delinquent_rows_all_buckets,
        case
            when cast($current_share as double) >= 1 or current_rows = 0 then 1.0
            else least(
                1.0,
                cast($current_share as double) / (1 - cast($current_share as double))
                * greatest(delinquent_rows_all_buckets, 1) / current_rows
            )
        end as current_keep_rate
    from strata
),

cap as (
    select
        current_keep_rate,
        case
            when
                cast($max_rows as bigint) > 0
                and delinquent_rows + current_rows * current_keep_rate > cast($max_rows as bigint)
                then cast($max_rows as bigint) / (delinquent_rows + current_rows * current_keep_rate)
            else 1.0
        end as cap_rate
    from keep_rate
),

kept as (
    -- draw is in [0, 1): a stratum kept at rate 1 keeps every row
    select
        labelled.* exclude (draw),
        labelled.night_weight
        / (case when labelled.bucket = 'M0' then cap.current_keep_rate else 1.0 end
            * cap.cap_rate) as weight
    from labelled
    cross join cap
    where
        labelled.draw
        < case when labelled.bucket = 'M0' then cap.current_keep_rate else 1.0 end * cap.cap_rate
),

located as (
    -- each kept row's place in account_features, found on the two key columns: the wide row is
    -- then read for the kept rows only (joined on all its columns, the 1M-account, 360-day
    -- book's training set read 34M rows of 57 columns to keep 1M)
    select
        kept.*,
        account_features.rowid as feature_row
    from kept
    inner join account_features
        on
            kept.snapshot_date = account_features.snapshot_date
            and kept.account_id = account_features.account_id
),

final as (
    select
        account_features.*,
        located.label_date,
        located.label_snapshot_date,
        located.bucket_later,
        located.label,
        located.weight
    from located
    inner join account_features on located.feature_row = account_features.rowid
    order by located.snapshot_date, located.account_id
)

select * from final
