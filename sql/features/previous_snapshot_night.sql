-- The book's night before $night (the latest earlier snapshot date); null on the first night.
select max(snapshot_date) as previous_night
from account_snapshots
where snapshot_date < cast($night as date)
