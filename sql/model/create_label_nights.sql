-- label_nights: the observation nights a training set or a monitoring window reads (a temp
-- table, one row per night), and what label_keys (create_label_keys.sql) needs to know of them.
--   night: an observation night of $nights or $delinquent_nights
--   all_buckets: the night is in $nights (every account observed), else delinquent rows only
--   current_night_weight: $current_night_weight (models.dataset.current_night_weight)
--   excluded_buckets: $excluded_buckets
create or replace temp table label_nights as
select
    night,
    bool_or(all_buckets) as all_buckets,
    cast($current_night_weight as double) as current_night_weight,
    cast($excluded_buckets as varchar[]) as excluded_buckets
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
