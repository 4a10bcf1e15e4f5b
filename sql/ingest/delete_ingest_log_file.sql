-- Remove the log entry of one file version before it is written again.
delete from ingest_log where feed = $feed and snapshot_date = $file_date and sha256 = $sha256
