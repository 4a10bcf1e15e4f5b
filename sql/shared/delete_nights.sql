-- Remove nights [$start_date, $end_date] of a nightly table before they are rebuilt.
delete from {{ table }} where snapshot_date between $start_date and $end_date
