-- What: credit-line actions for nights in [$start_date, $end_date] whose recommended limit is
--       above the current limit, below zero, or (reduce) below the balance, or whose
--       exposure_removed is not credit_limit - recommended_limit or is negative.
-- Why: an action against over-extension only ever takes undrawn limit away; raising an
--       over-limit account's limit to its balance would be the opposite (issue 17).
-- Threshold: any row fails (ERROR).
-- Columns: snapshot_date, account_id, currency, action, credit_limit, balance,
--   recommended_limit, exposure_removed
select
    snapshot_date,
    account_id,
    currency,
    action,
    credit_limit,
    balance,
    recommended_limit,
    exposure_removed
from credit_line_actions
where snapshot_date between $start_date and $end_date
    and (
        recommended_limit > credit_limit
        or recommended_limit < 0
        or (action = 'reduce' and recommended_limit < balance)
        or exposure_removed < 0
        or exposure_removed <> credit_limit - recommended_limit
    )
