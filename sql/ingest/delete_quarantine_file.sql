-- Remove the quarantine entries of one file version (a rejected file that is rejected again).
delete from quarantine where feed = $feed and snapshot_date = $file_date and file_sha256 = $sha256
