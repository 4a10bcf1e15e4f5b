-- first_snapshot_night: the book's first snapshot night, where every look-back must stop.
-- Grain: one row.
--   first_night: min(snapshot_date) of account_snapshots; null when the table is empty
select min(snapshot_date) as first_night
from account_snapshots
