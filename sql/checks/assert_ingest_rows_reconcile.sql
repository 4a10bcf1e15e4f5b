-- What: landed files of a feed-night whose rows read differ from rows loaded + rows quarantined
--       (+ rows skipped: keys loaded on another night, contract skipKeysLoadedEarlier),
--       or whose loaded count differs from the rows in the warehouse partition.
-- Why: every input row must end up loaded or quarantined with its reason, never silently dropped.
-- Threshold: none; a single offending file fails the check (blocking, severity ERROR).
with

logged as (
    select feed, snapshot_date, source_file, rows_read, rows_loaded, rows_quarantined,
        coalesce(rows_skipped, 0) as rows_skipped
    from ingest_log
    where feed = $feed and snapshot_date between $start_date and $end_date and status = 'loaded'
),

warehouse as (
    -- by file: a table may also hold rows merged from another feed (contact_outcomes: work lists)
    select {{ partition_column }} as snapshot_date, source_file, count(*) as rows_in_warehouse
    from {{ table }}
    where {{ partition_column }} between $start_date and $end_date
    group by all
),

quarantined as (
    select snapshot_date, count(distinct coalesce(row_number, -1)) as rows_in_quarantine
    from quarantine
    where feed = $feed and snapshot_date between $start_date and $end_date
    group by all
),

final as (
    select
        logged.*,
        coalesce(warehouse.rows_in_warehouse, 0) as rows_in_warehouse,
        coalesce(quarantined.rows_in_quarantine, 0) as rows_in_quarantine
    from logged
    left join warehouse using (snapshot_date, source_file)
    left join quarantined using (snapshot_date)
    where logged.rows_read <> logged.rows_loaded + logged.rows_quarantined + logged.rows_skipped
        or logged.rows_loaded <> coalesce(warehouse.rows_in_warehouse, 0)
        or logged.rows_quarantined <> coalesce(quarantined.rows_in_quarantine, 0)
)

select * from final
