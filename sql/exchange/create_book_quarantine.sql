-- A split book's quarantine as the one warehouse keeps it: the book's own feeds' entries, and
-- each entry the shards made once (a data row is in one shard; a whole-file rejection and a
-- reference feed's entries, which every shard makes alike, are one entry).
create or replace temp view book_quarantine as
{% if own %}
select * from main.quarantine
union all by name
{% endif %}
select distinct * from read_parquet({{ files }}, union_by_name = true)
