-- Row numbers quarantined per rule for one feed-night (the SQL engine's verdict, as loaded).
select rule, list(row_number order by row_number) as row_numbers
from quarantine
where feed = $feed and snapshot_date = $file_date and row_number is not null
group by rule
