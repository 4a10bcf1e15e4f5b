-- A new file version for a night supersedes the loaded one.
update ingest_log set status = 'replaced'
where feed = $feed and snapshot_date = $file_date and status = 'loaded' and sha256 <> $sha256
