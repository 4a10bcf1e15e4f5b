-- Rows per night of nights [$start_date, $end_date] in a nightly table, for each partition's
-- metadata in the UI.
-- Grain: one row per night that has rows.
--   snapshot_date: the night
--   rows: the table's rows for that night
select snapshot_date, count(*) as rows
from {{ table }}
where snapshot_date between $start_date and $end_date
group by snapshot_date
order by snapshot_date
