-- What: nights of a feed where more than $max_share of the rows read were quarantined, with the
--       three rules that quarantined most rows.
-- Why: a re-sent file appended to the first (every key a duplicate) or a wrong export loads
--      nothing while every row is accounted for, so the reconcile check passes.
-- Threshold: quarantined / read above OVERDUE_MAX_QUARANTINE_SHARE (default 0.5), judged on
--            feed-nights that read at least OVERDUE_QUARANTINE_SHARE_MIN_ROWS rows (default 20:
--            one bad row of a one-row customers change file is that row quarantined, not a broken
--            night); a night that read no rows never offends.
with

logged as (
    select snapshot_date, rows_read, rows_loaded, rows_quarantined,
        rows_quarantined / rows_read as quarantine_share
    from ingest_log
    where feed = $feed and status = 'loaded' and rows_read >= $min_rows
        and snapshot_date between $start_date and $end_date
),

by_rule as (
    select snapshot_date, rule, count(distinct coalesce(row_number, -1)) as quarantined_rows
    from quarantine
    where feed = $feed and snapshot_date between $start_date and $end_date
    group by all
),

ranked as (
    select *, row_number() over (partition by snapshot_date order by quarantined_rows desc, rule)
        as place
    from by_rule
),

top_rules as (
    select snapshot_date,
        string_agg(rule || ' ' || quarantined_rows, ', ' order by place) as top_rules
    from ranked
    where place <= 3
    group by all
),

final as (
    select logged.*, coalesce(top_rules.top_rules, '') as top_rules
    from logged
    left join top_rules using (snapshot_date)
    where logged.quarantine_share > $max_share
)

select * from final order by snapshot_date
