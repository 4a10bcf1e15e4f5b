-- Rows of nights [$start_date, $end_date] in a nightly table.
select count(*) from {{ table }} where snapshot_date between $start_date and $end_date
