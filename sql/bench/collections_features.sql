-- The benchmark's account_features: the columns collection_tiers reads, from its snapshots.
create or replace table account_features as
select
    snapshot_date, account_id, customer_id, product, status, currency,
    case
        when status = 'charged_off' or days_past_due > 180 then 'WO'
        when days_past_due = 0 then 'M0' when days_past_due <= 30 then 'M1'
        when days_past_due <= 60 then 'M2' when days_past_due <= 90 then 'M3'
        when days_past_due <= 120 then 'M4' when days_past_due <= 150 then 'M5' else 'M6'
    end as bucket,
    days_past_due, balance, credit_limit, past_due_amount,
    balance / credit_limit as utilisation,
    cast(null as bigint) as days_since_delinquent,
    false as open_dispute
from account_snapshots
