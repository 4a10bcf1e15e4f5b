-- Remove nights [$start_date, $end_date] of a model table before they are written again.
delete from {{ table }} where snapshot_date between $start_date and $end_date
