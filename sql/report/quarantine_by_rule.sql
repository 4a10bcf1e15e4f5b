-- Tonight's quarantined rows by feed, rule and column (never the quarantined record itself: it can
-- hold personal data).
-- Grain: one row per (feed, rule, column_name). {{ quarantine }}: the table, or on a split book
-- its merged view (pipelines/lib/exchange.py).
--   rows: distinct data rows (0 for a whole-file rejection); violations: entries
select feed, rule, coalesce(column_name, '') as column_name, count(distinct row_number) as rows,
    count(*) as violations
from {{ quarantine }}
where snapshot_date = $night
group by all
order by feed, rows desc, rule
