-- label_sample_rates: the two keep rates of the training sample (labels.sql), from the strata of
-- label_keys' labelled rows: current (M0) rows at the rate that makes them about $current_share of
-- the rows (1 when they already are, or $current_share >= 1), then every row at cap_rate when more
-- than $max_rows (> 0) would be kept.
with

{% include 'model/labelled_rows.sql' %}
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
)

select current_keep_rate, cap_rate from cap
