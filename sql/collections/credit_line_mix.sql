-- The night's credit-line actions for the UI. Grain: one row per (currency, action, bucket):
-- amounts in that currency, never summed across currencies.
--   currency, action, bucket, accounts, limits: sum of credit_limit, recommended_limits,
--   exposure_removed: the undrawn limit taken away
select
    currency,
    action,
    bucket,
    count(*) as accounts,
    sum(credit_limit) as limits,
    sum(recommended_limit) as recommended_limits,
    sum(exposure_removed) as exposure_removed
from credit_line_actions
where snapshot_date = $night
group by currency, action, bucket
order by currency, action, bucket
