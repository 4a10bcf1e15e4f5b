-- Drop the kept labels of $nights (about to be recomputed) and of every night before $keep_from
-- (older than any window a retrain or the monitoring reads).
delete from observation_labels
where
    list_contains(cast($nights as date[]), snapshot_date)
    or snapshot_date < cast($keep_from as date)
