-- Unrecognised landing entries as last seen: one line per entry, with the night that saw it and why.
-- Why: a file in a landing folder that is not a night file was never read; the operator must see it.
select feed, source_file, max(snapshot_date) as last_seen, arg_max(message, snapshot_date) as reason
from ingest_log
where status = 'unrecognised'
group by feed, source_file
order by feed, source_file
