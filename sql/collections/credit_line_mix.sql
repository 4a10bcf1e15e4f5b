-- The night's credit-line actions by action and bucket, for the UI.
select action, bucket, count(*) as accounts, sum(credit_limit) as limits,
    sum(recommended_limit) as recommended_limits
from credit_line_actions
where snapshot_date = $night
group by action, bucket
order by action, bucket
