-- Quarantined rows per night, feed and rule (latest 30 groups), with the file they came from.
select
    snapshot_date,
    feed,
    rule,
    count(distinct coalesce(row_number, -1)) as quarantined_rows,
    any_value(source_file) as source_file
from quarantine
group by all
order by snapshot_date desc, feed, rule
limit 30
