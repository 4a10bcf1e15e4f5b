-- Rows of one feed-night in its warehouse table.
select count(*) from {{ table }} where {{ partition_column }} = $file_date
