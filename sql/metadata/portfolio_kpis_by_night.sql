-- The book's headline figures per night for the risk_report partitions in the UI: the same
-- portfolio_daily rows (product `all`, currency `all`) the report's KPIs read, for the nights of
-- a backfill that get no report. Definitions: sql/features/portfolio_daily.sql.
-- Grain: one row per night of [$start_date, $end_date] in portfolio_daily.
--   snapshot_date: the night
--   accounts: accounts in the night's file
--   balance: total balance, in the reporting currency (null when a currency had no rate)
--   amount_currency: the currency of the balance (the reporting currency)
--   rate_30plus_accounts, rate_60plus_accounts, rate_90plus_accounts: share of the book's accounts at or beyond 31/61/91 DPD
--   rate_30plus_balance: share of the book's balance at or beyond 31 DPD
--   npl_ratio: non-performing (91+ on book) share of the book's balance
--   new_writeoffs: accounts newly written off that night
--   writeoffs_month: accounts written off this calendar month up to the night
select
    snapshot_date,
    accounts,
    balance,
    amount_currency,
    rate_30plus_accounts,
    rate_60plus_accounts,
    rate_90plus_accounts,
    rate_30plus_balance,
    npl_ratio,
    new_writeoffs,
    month_writeoffs as writeoffs_month
from portfolio_daily
where product = 'all' and currency = 'all' and snapshot_date between $start_date and $end_date
order by snapshot_date
