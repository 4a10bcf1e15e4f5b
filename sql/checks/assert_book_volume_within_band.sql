-- What: each night of the range with its loaded rows, the previous night's and the outcome; the
--       night offends (outcome other than 'within band') when its rows are zero, or outside the
--       band against the previous night of that feed with rows (an earlier night, never an earlier load of the same night;
--       nights without a file and nights whose gate failed are skipped as previous nights).
-- Why: a header-only, half-copied or re-sent file loads without a row-level error, and every
--      account missing from it would look closed or gone to everything downstream.
-- Threshold: change below $lower_pct or above $upper_pct percent (OVERDUE_VOLUME_BAND, default
--            -20,+30), or zero rows; the first night ever has no previous, and a previous night of
--            fewer than $min_previous rows (OVERDUE_VOLUME_MIN_ACCOUNTS, default 100) no band:
--            only zero offends.
with

loaded as (
    select snapshot_date, rows_loaded
    from ingest_log
    where feed = $feed and status = 'loaded'
),

failed as (
    select distinct snapshot_date
    from volume_checks
    where feed = $feed and gate = 'book_volume' and outcome = 'failed'
        and snapshot_date < $start_date
),

tonight as (
    select snapshot_date, rows_loaded
    from loaded
    where snapshot_date between $start_date and $end_date
),

candidates as (
    select loaded.*
    from loaded
    anti join failed using (snapshot_date)
    where loaded.rows_loaded > 0 and loaded.snapshot_date <= $end_date
),

judged as (
    select
        tonight.snapshot_date,
        tonight.rows_loaded,
        previous.snapshot_date as previous_night,
        previous.rows_loaded as previous_rows,
        round(100.0 * (tonight.rows_loaded - previous.rows_loaded) / previous.rows_loaded, 1)
            as change_pct
    from tonight
    asof left join candidates as previous
        on tonight.snapshot_date > previous.snapshot_date
),

final as (
    select
        *,
        case
            when rows_loaded = 0 then 'zero'
            when previous_rows < $min_previous then 'within band'
            when change_pct < $lower_pct then 'below band'
            when change_pct > $upper_pct then 'above band'
            else 'within band'
        end as outcome
    from judged
)

select * from final order by snapshot_date
