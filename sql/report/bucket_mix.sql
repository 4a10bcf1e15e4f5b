-- Tonight's book by product and delinquency bucket (DOMAIN §1), from account_snapshots.
-- Grain: one row per (product, bucket, closed).
--   product: a product
--   bucket: M0..M6, WO
--   closed: status closed (the roll-rate chain keeps closed accounts in a state of their own)
--   accounts: accounts in the bucket
--   balance: their balance
--   currency: the bucket's most common currency
select
    product,
    delinquency_bucket(days_past_due, status) as bucket,
    status = 'closed' as closed,
    count(*) as accounts,
    sum(balance) as balance,
    mode(currency) as currency
from account_snapshots
where snapshot_date = $night
group by all
order by product, bucket, closed
