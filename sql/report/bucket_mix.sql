-- Tonight's book by product and delinquency bucket (DOMAIN §1), from account_snapshots, every
-- currency together: balances converted to the reporting currency at the night's rate
-- (sql/shared/fx_rates_by_night.sql, with start_date = end_date = the night), and null when any
-- currency of the night has no rate (never a raw sum across currencies).
-- Grain: one row per (product, bucket, closed).
--   product: a product
--   bucket: M0..M6, WO
--   closed: status closed (the roll-rate chain keeps closed accounts in a state of their own)
--   accounts: accounts in the bucket
--   balance: their balance in the reporting currency (null without every rate)
--   currency: the currency of balance (the reporting currency)
with

per_currency as (
    select
        product,
        delinquency_bucket(days_past_due, status) as bucket,
        status = 'closed' as closed,
        upper(currency) as currency,
        count(*) as accounts,
        sum(balance) as balance
    from account_snapshots
    where snapshot_date = $night
    group by all
),

night_rates as (
    select currency, rate
    from ({% include 'shared/fx_rates_by_night.sql' %}) as fx
),

priced as (
    select
        per_currency.*,
        case when per_currency.currency = $reporting_currency then 1.0
            else night_rates.rate end as rate
    from per_currency
    left join night_rates using (currency)
),

final as (
    select
        product,
        bucket,
        closed,
        cast(sum(accounts) as bigint) as accounts,
        case when (select bool_and(rate is not null) from priced)
            then sum(balance * rate) end as balance,
        $reporting_currency as currency
    from priced
    group by product, bucket, closed
)

select * from final
order by product, bucket, closed
