-- A split book's scoring declaration per night: each distinct one its shards recorded (one row
-- when every shard scored with the same champion, or was degraded for the same cause).
create or replace temp view book_scoring_status as
select distinct snapshot_date, scored, degraded, cause, detail, model_version
from read_parquet({{ files }}, union_by_name = true)
