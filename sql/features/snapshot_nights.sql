-- The book's nights in [$start_date, $end_date] (distinct snapshot dates), in order.
select distinct snapshot_date as night
from account_snapshots
where snapshot_date between cast($start_date as date) and cast($end_date as date)
order by night
