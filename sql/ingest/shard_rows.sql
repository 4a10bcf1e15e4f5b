-- The landed rows of one customer shard: those whose customer id (trimmed, blank as none) falls
-- in shard $shard of $shards; a row without one falls in shard 0, whose checks quarantine it.
select * from landed
where shard_of(nullif(trim("{{ shard_by }}"), ''), $shards) = $shard
