-- Snapshot rows the feature query's 180-day windows read for nights $start_date..$end_date: what
-- decides how many customer ranges it runs in (pipelines/lib/nightly_tables.customer_ranges).
select count(*) as window_rows
from account_snapshots
where snapshot_date between cast($start_date as date) - 179 and cast($end_date as date)
