-- The tiering benchmark's baseline: one pass over the same rows, grouped by bucket.
select bucket, count(*), sum(balance), sum(past_due_amount)
from account_features
where snapshot_date = $night
group by bucket
