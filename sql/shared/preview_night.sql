-- The first rows of one night of a nightly table, for the UI's preview.
select * from {{ table }} where snapshot_date = $night limit $limit
