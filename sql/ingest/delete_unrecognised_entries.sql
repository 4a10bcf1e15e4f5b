-- Remove a feed's unrecognised landing entries recorded for a night, before they are recorded again.
-- Why: each run lists what the landing folder holds now; an entry since removed or renamed is gone.
delete from ingest_log
where feed = $feed and snapshot_date = $file_date and status = 'unrecognised'
