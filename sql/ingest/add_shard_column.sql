-- A feed table from before shards were stored: its rows are all of the one shard (0).
alter table {{ table }} add column if not exists shard usmallint default 0
