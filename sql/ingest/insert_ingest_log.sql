-- Record one file version's outcome.
insert into ingest_log values (
    $feed, $file_date, $source_file, $sha256, $status, $rows_read, $rows_loaded,
    $rows_quarantined, $contract_version, $message, $ingested_at, $rows_skipped
)
