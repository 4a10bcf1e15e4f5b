-- The book per night and product up to the report night (portfolio_daily), for the executive
-- summary, its comparisons (previous night, one month earlier) and the trend charts.
-- Grain: one row per (snapshot_date, product).
--   snapshot_date, product, accounts, balance: the book
--   rate_30plus_accounts, rate_60plus_accounts, rate_90plus_accounts: shares of accounts
--   rate_30plus_balance, rate_60plus_balance, rate_90plus_balance: shares of balance
--   new_writeoffs, new_writeoff_balance: accounts (balance) written off that night
--   accounts_normal .. accounts_loss, balance_normal .. balance_loss: five-class grading mix
select
    snapshot_date,
    product,
    accounts,
    balance,
    rate_30plus_accounts,
    rate_60plus_accounts,
    rate_90plus_accounts,
    rate_30plus_balance,
    rate_60plus_balance,
    rate_90plus_balance,
    new_writeoffs,
    new_writeoff_balance,
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
where snapshot_date between $night - interval 400 days and $night
order by snapshot_date, product
