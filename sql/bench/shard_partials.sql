-- One night of the one warehouse's account_snapshots cut into $parts shard partials (Parquet, a
-- folder per shard), as the shards of a split book would publish it.
copy (
    select *, shard_of(customer_id, $parts) as part
    from book.account_snapshots
    where snapshot_date = $night
) to '{{ folder }}' (format parquet, partition_by (part))
