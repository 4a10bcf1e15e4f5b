-- Whether the account_feature_state of $previous_night can be carried: it exists, and no snapshot
-- night up to it was landed after it was built (a re-landed or corrected night asks for a rebuild).
select coalesce(bool_or(
    kept.built_at > coalesce((
        select max(ingest_log.ingested_at)
        from ingest_log
        where
            ingest_log.feed = 'account_snapshots'
            and ingest_log.status = 'loaded'
            and ingest_log.snapshot_date <= kept.state_night
    ), '-infinity'::timestamptz)
), false) as usable
from account_feature_state_night as kept
where kept.state_night = cast($previous_night as date)
