-- Forget a gate's earlier outcomes for the nights being judged again.
delete from volume_checks
where feed = $feed and gate = $gate and snapshot_date between $start_date and $end_date
