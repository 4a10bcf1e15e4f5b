-- One night of a shard's table, as the file night-level steps read it (pipelines/lib/exchange.py).
copy (
    select * from {{ table }} where {{ night_column }} = $night
) to '{{ path }}' (format parquet, compression zstd)
