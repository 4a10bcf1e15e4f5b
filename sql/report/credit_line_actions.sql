-- Tonight's credit-line actions by currency, action and reason: the limits they touch and the
-- undrawn limit they take away (the exposure removed), in that currency. Amounts of two
-- currencies are never added: each currency has its own rows.
-- Grain: one row per (currency, action, reason).
--   currency, action, reason, accounts
--   credit_limit: sum of the accounts' current limits
--   undrawn_limit: sum of greatest(credit_limit - balance, 0) before the action
--   exposure_removed: sum of credit_limit - recommended_limit
select
    currency,
    action,
    reason,
    count(*) as accounts,
    sum(credit_limit) as credit_limit,
    sum(undrawn_limit) as undrawn_limit,
    sum(exposure_removed) as exposure_removed
from credit_line_actions
where snapshot_date = $night
group by currency, action, reason
order by currency, action, accounts desc, reason
