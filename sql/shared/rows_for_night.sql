-- Rows an optional table holds for the night: 0 means "not available for this night".
select count(*) as rows from {{ table }} where snapshot_date = $night
