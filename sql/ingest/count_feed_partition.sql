-- Rows of one feed-night in its warehouse table that came from the file (a table may also hold
-- rows merged in from another feed's file: contact_outcomes holds the returned work lists).
select count(*) from {{ table }} where {{ partition_column }} = $file_date
    and source_file = $source_file
