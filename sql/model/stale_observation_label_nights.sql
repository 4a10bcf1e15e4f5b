-- The nights of $nights whose observation_labels must be (re)computed: none kept, kept under
-- another horizon, seed or label rule, or a snapshot night the label pass reads (the night itself
-- and its label date's 3-day tolerance) landed after they were built. {{ ingest_log }}: the table,
-- or on a split book its merged view (pipelines/lib/exchange.py).
with

requested as (
    select distinct
        night,
        months_later(night, $horizon_months) as label_date
    from (select cast(unnest(cast($nights as date[])) as date) as night)
),

landed as (
    select
        requested.night,
        max({{ ingest_log }}.ingested_at) as last_landed_at
    from requested
    inner join {{ ingest_log }}
        on
            {{ ingest_log }}.feed = 'account_snapshots'
            and {{ ingest_log }}.status = 'loaded'
            and (
                {{ ingest_log }}.snapshot_date = requested.night
                or {{ ingest_log }}.snapshot_date
                between requested.label_date - interval 3 days and requested.label_date
            )
    group by requested.night
)

select requested.night
from requested
left join observation_label_nights as kept on requested.night = kept.snapshot_date
left join landed on requested.night = landed.night
where
    kept.snapshot_date is null
    or kept.horizon_months <> cast($horizon_months as integer)
    or kept.seed <> cast($seed as bigint)
    or kept.definition <> $definition
    or kept.built_at <= coalesce(landed.last_landed_at, '-infinity'::timestamptz)
order by requested.night
