-- The latest night's headline figures for `overdue summary`: the whole book (currency `all`,
-- amounts in the reporting currency, null without every rate) first, then each currency in its
-- own. Counts, amounts and rates only; definitions in sql/features/portfolio_daily.sql.
-- Grain: one row per currency of the latest night, `all` first.
--   snapshot_date: the latest night in portfolio_daily
--   currency, amount_currency, fx_rates_used, missing_rates: as in portfolio_daily
--   book_accounts, book_balance: the book (not written off)
--   rate_30plus_accounts, rate_60plus_accounts, rate_90plus_accounts, rate_30plus_balance: delinquency
--   npl_ratio: NPL balance / loan balance
--   writeoff_accounts, writeoff_balance: written-off stock
--   new_writeoffs: accounts written off that night
select
    snapshot_date, currency, amount_currency, fx_rates_used, missing_rates, book_accounts,
    book_balance, rate_30plus_accounts, rate_60plus_accounts, rate_90plus_accounts,
    rate_30plus_balance, npl_ratio, writeoff_accounts, writeoff_balance, new_writeoffs
from portfolio_daily
where product = 'all'
    and snapshot_date = (select max(snapshot_date) from portfolio_daily where product = 'all')
order by currency = 'all' desc, currency
