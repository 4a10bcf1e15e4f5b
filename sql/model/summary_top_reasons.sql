-- The features most often given as an account's first reason on one night.
select feature, count(*) as accounts
from account_reason_codes
where snapshot_date = $night and rank = 1
group by all
order by accounts desc, feature
limit 5
