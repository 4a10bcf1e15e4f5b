-- Remove one night of a feed, so that the load that follows in the same transaction replaces it.
delete from {{ table }} where {{ partition_column }} = $file_date
