-- The warehouse table of one landing feed, shaped by its contract: every contract column typed,
-- extra landed columns kept as JSON, the row's lineage (file and 1-based data row) and, for a feed
-- routed by customer (the contract's shardBy), the customer's shard (pipelines/lib/shards.py).
-- No primary key on purpose: it makes loads 2.7x slower (STACK.md); the contract's unique rule
-- and the nightly partition replace keep keys unique instead.
create table if not exists {{ table }} (
    {%- if not file_date_column %}
    landing_date date not null,
    {%- endif %}
    {%- for column in columns %}
    {{ column.name }} {{ column.duckdb_type }}{% if column.name == file_date_column %} not null{% endif %},
    {%- endfor %}
    extra_columns json,
    source_file varchar not null,
    source_row bigint not null
    {%- if shard_by %},
    shard usmallint default 0
    {%- endif %}
)
