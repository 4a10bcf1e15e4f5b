-- Remove the quarantine of one feed-night before its replacement load.
delete from quarantine where feed = $feed and snapshot_date = $file_date
