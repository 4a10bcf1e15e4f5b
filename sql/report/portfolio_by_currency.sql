-- The whole book on the report night per currency, each in its own currency (portfolio_daily,
-- product `all`), for the executive summary's per-currency table.
-- Grain: one row per currency of the night.
--   currency: ISO 4217
--   accounts, balance: the file's accounts and balance
--   book_accounts, book_balance: the book (not written off)
--   rate_30plus_accounts, rate_90plus_accounts, rate_30plus_balance, rate_90plus_balance: delinquency
--   npl_balance, npl_ratio: non-performing loans (91+ DPD on the book)
--   writeoff_accounts, writeoff_balance: written-off stock
--   month_writeoffs, month_writeoff_balance: written off this month to the night
select
    currency,
    accounts,
    balance,
    book_accounts,
    book_balance,
    rate_30plus_accounts,
    rate_90plus_accounts,
    rate_30plus_balance,
    rate_90plus_balance,
    npl_balance,
    npl_ratio,
    writeoff_accounts,
    writeoff_balance,
    month_writeoffs,
    month_writeoff_balance
from portfolio_daily
where snapshot_date = $night and product = 'all' and currency <> 'all'
order by currency
