-- The last night of a run's range with a book in portfolio_daily (a backfill may end on a night
-- without a file): the night the report is for, or null.
select max(snapshot_date) as night
from portfolio_daily
where product = 'all' and currency = 'all' and snapshot_date between $start_date and $end_date
