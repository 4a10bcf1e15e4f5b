-- The latest 10 nights of a feed: loaded rows, the change against the night the gate compared
-- with, and the gate's outcome (with who accepted it, when accepted).
with

checks as (
    select snapshot_date, outcome, rows_loaded, previous_night, previous_rows, change_pct
    from volume_checks
    where feed = $feed and gate = 'book_volume'
),

accepted as (
    select snapshot_date, arg_max(accepted_by, accepted_at) as accepted_by
    from volume_acceptances
    where feed = $feed
    group by all
),

loaded as (
    select snapshot_date, rows_loaded,
        lag(snapshot_date) over (order by snapshot_date) as previous_night,
        lag(rows_loaded) over (order by snapshot_date) as previous_rows
    from ingest_log
    where feed = $feed and status = 'loaded'
),

final as (
    select
        loaded.snapshot_date,
        loaded.rows_loaded,
        coalesce(checks.previous_night, loaded.previous_night) as previous_night,
        coalesce(checks.previous_rows, loaded.previous_rows) as previous_rows,
        coalesce(checks.outcome, 'not judged') as outcome,
        accepted.accepted_by
    from loaded
    left join checks using (snapshot_date)
    left join accepted using (snapshot_date)
)

select * from final order by snapshot_date desc limit 10
