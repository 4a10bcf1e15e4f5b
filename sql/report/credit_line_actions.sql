-- Tonight's credit-line actions (e.g. freeze, reduce, restore) by action.
-- Grain: one row per action.
select action, count(*) as accounts
from credit_line_actions
where snapshot_date = $night
group by action
order by accounts desc, action
