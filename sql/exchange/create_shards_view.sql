-- A shard table as night-level steps see it: every shard's published nights, by column name.
create or replace temp view {{ table }} as
select * from read_parquet({{ files }}, union_by_name = true)
