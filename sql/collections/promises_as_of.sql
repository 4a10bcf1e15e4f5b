-- The night the ledger stands at: the later of the run's last night and the night it was last
-- built for, so a rerun of an earlier night never takes back what later nights decided.
select greatest(cast($night as date), max(as_of_night)) as as_of from promises
