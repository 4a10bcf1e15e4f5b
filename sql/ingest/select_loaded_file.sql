-- The log entry of a file version already loaded under this contract version, if any.
select rows_read, rows_loaded, rows_quarantined
from ingest_log
where feed = $feed and snapshot_date = $file_date and sha256 = $sha256
    and contract_version = $contract_version and status = 'loaded'
