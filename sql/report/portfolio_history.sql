-- The book per night and product up to the report night (portfolio_daily, every currency: amounts
-- in the reporting currency, null on a night with a currency without a rate), for the executive
-- summary, its comparisons (previous night, one month earlier) and the trend charts.
-- Definitions: the header of sql/features/portfolio_daily.sql (pipelines/lib/definitions.py).
-- Grain: one row per (snapshot_date, product).
--   snapshot_date, product, accounts, balance: the file's accounts and balance
--   amount_currency, fx_rates_used, missing_rates: the currency of the amounts, the rates used
--   book_accounts, book_balance: the book (not written off)
--   accounts_30plus, accounts_60plus, accounts_90plus, balance_30plus, balance_60plus, balance_90plus: delinquent book
--   rate_30plus_accounts, rate_60plus_accounts, rate_90plus_accounts: shares of book accounts
--   rate_30plus_balance, rate_60plus_balance, rate_90plus_balance: shares of book balance
--   npl_accounts, npl_balance, npl_ratio: non-performing loans (91+ DPD on the book)
--   writeoff_accounts, writeoff_balance: written-off stock
--   new_writeoffs, new_writeoff_balance: accounts (balance) written off that night
--   month_writeoffs, month_writeoff_balance: written off from the first of the month to the night
--   accounts_normal .. accounts_loss, balance_normal .. balance_loss: five-class grading mix
select
    snapshot_date,
    product,
    amount_currency,
    fx_rates_used,
    missing_rates,
    accounts,
    balance,
    book_accounts,
    book_balance,
    accounts_30plus,
    accounts_60plus,
    accounts_90plus,
    balance_30plus,
    balance_60plus,
    balance_90plus,
    rate_30plus_accounts,
    rate_60plus_accounts,
    rate_90plus_accounts,
    rate_30plus_balance,
    rate_60plus_balance,
    rate_90plus_balance,
    npl_accounts,
    npl_balance,
    npl_ratio,
    writeoff_accounts,
    writeoff_balance,
    new_writeoffs,
    new_writeoff_balance,
    month_writeoffs,
    month_writeoff_balance,
    accounts_normal,
    accounts_special_mention,
    accounts_substandard,
    accounts_doubtful,
    accounts_loss,
    balance_normal,
    balance_special_mention,
    balance_substandard,
    balance_doubtful,
    balance_loss
from portfolio_daily
where currency = 'all' and snapshot_date between $night - interval 400 days and $night
order by snapshot_date, product
