-- The latest night's headline figures for `overdue summary` (counts and rates only).
select snapshot_date, accounts, balance, rate_30plus_accounts, rate_60plus_accounts,
    rate_90plus_accounts, rate_30plus_balance, new_writeoffs
from portfolio_daily
where product = 'all'
order by snapshot_date desc
limit 1
