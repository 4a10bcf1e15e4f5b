-- shard_of: the customer shard a row belongs to, of `shards`: the first 8 hex digits of the md5 of
-- the customer id (its UTF-8 bytes) as an unsigned 32-bit number, modulo the shard count. Spark
-- and Hive compute the same number as pmod(conv(substr(md5(customer_id), 1, 8), 16, 10), shards).
-- A row without a customer id belongs to shard 0, whose ingest quarantines it.
create or replace macro shard_of(customer_id, shards) as
    coalesce(cast(('0x' || left(md5(customer_id), 8)) as ubigint) % shards, 0)
