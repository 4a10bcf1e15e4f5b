-- The work of the feature query for nights $start_date..$end_date: snapshot rows its 180-day
-- windows read, and the nights with snapshots (each night joins its own window, so the join holds
-- about window_rows x nights rows and nights x accounts groups). It decides how many customer
-- ranges the query runs in (pipelines/lib/nightly_tables.customer_ranges).
select
    count(*) as window_rows,
    count(distinct snapshot_date) filter (
        where snapshot_date >= cast($start_date as date)
    ) as nights
from account_snapshots
where snapshot_date between cast($start_date as date) - 179 and cast($end_date as date)
