-- Every landed file of a split book's night as the one warehouse logs it: the book's own feeds,
-- and each file the shards read once, its rows summed over the shards (a reference feed, which
-- every shard loads whole, counted from shard {{ first_shard }}'s log).
create or replace temp view book_ingest_log as
{% if own %}
select * from main.ingest_log
union all by name
{% endif %}
select
    feed, snapshot_date, source_file, sha256, status, contract_version,
    cast(sum(rows_read) as bigint) as rows_read,
    cast(sum(rows_loaded) as bigint) as rows_loaded,
    cast(sum(rows_quarantined) as bigint) as rows_quarantined,
    cast(sum(rows_skipped) as bigint) as rows_skipped,
    min(message) as message,
    max(ingested_at) as ingested_at
from read_parquet({{ files }}, union_by_name = true, filename = true)
where feed not in ({{ reference_feeds }}) or parse_filename(filename, true) = '{{ first_shard }}'
group by feed, snapshot_date, source_file, sha256, status, contract_version
