-- The merge kernel of tooling/bench/shards.py: one night's accounts and balance by product and
-- days-past-due band, over the one warehouse's table or over shards' Parquet partials.
select product, least(days_past_due // 30, 4) as band, count(*) as accounts, sum(balance) as balance
from {{ source }}
where snapshot_date = $night
group by all
