-- Roll-rate matrices of the whole book (product and currency `all`: balances in the reporting
-- currency at each night's rate, null on a night with a currency without one) up to the report night: the latest one for
-- the heatmap and the forecast, earlier ones (one month apart, following from_date) for the
-- month-over-month change and the forecast backtest.
-- Grain: one row per (snapshot_date, from_bucket, to_bucket).
--   snapshot_date, from_date: the nights the matrix runs between
--   from_bucket, to_bucket: states (M0..M6, WO, closed, `new` row, `gone` column)
--   accounts, balance: accounts and their balance on from_date (tonight's for row `new`)
select snapshot_date, from_date, from_bucket, to_bucket, accounts, balance
from roll_rates
where product = 'all' and currency = 'all'
    and snapshot_date between $night - interval 400 days and $night
order by snapshot_date, from_bucket, to_bucket
