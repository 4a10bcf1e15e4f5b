-- Tonight's landed files by feed: status, rows read, loaded and quarantined, contract version.
-- Grain: one row per (feed, source file version) of the night. {{ ingest_log }}: the table, or
-- on a split book its merged view (pipelines/lib/exchange.py).
select feed, status, rows_read, rows_loaded, rows_quarantined, contract_version, message
from {{ ingest_log }}
where snapshot_date = $night
order by feed, ingested_at
