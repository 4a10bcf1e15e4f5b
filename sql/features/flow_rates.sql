-- flow_rates: balance flowing one bucket forward each month, and chained to write-off (DOMAIN §2).
-- Grain: one row per (snapshot_date, product, currency, from_bucket) for from_bucket M0..M6.
-- Built on roll_rates of the same nights (run after it): on `currency = all` rows the balances are
-- roll_rates' converted ones, so the rates are null on a night with a currency without a rate.
--   snapshot_date: the night the month ends on
--   product: a product, or `all`
--   currency: ISO 4217 currency of the accounts, or `all`
--   amount_currency: the currency of the balances (the reporting currency on `all` rows)
--   from_bucket: bucket on the comparison night
--   to_bucket: the next bucket (M0 -> M1, ..., M6 -> WO)
--   from_balance: balance in from_bucket on the comparison night
--   flowed_balance: the part of it that is in to_bucket tonight
--   flow_rate: flowed_balance / from_balance (null when from_balance is 0)
--   chained_flow_to_writeoff: product of this and every later bucket's flow rate up to WO: the
--     share of this bucket's balance that the current flows would carry to write-off
with

buckets as (
    select * from (values
        ('M0', 'M1', 0), ('M1', 'M2', 1), ('M2', 'M3', 2), ('M3', 'M4', 3),
        ('M4', 'M5', 4), ('M5', 'M6', 5), ('M6', 'WO', 6)
    ) as chain (from_bucket, to_bucket, position)
),

nights as (
    select distinct snapshot_date, product, currency, amount_currency
    from roll_rates
    where snapshot_date between $start_date and $end_date
),

flows as (
    select
        nights.snapshot_date,
        nights.product,
        nights.currency,
        nights.amount_currency,
        buckets.from_bucket,
        buckets.to_bucket,
        buckets.position,
        -- a converted balance is null on an unpriced night: no total then, not 0
        case when bool_and(roll_rates.balance is not null or roll_rates.accounts is null)
            then coalesce(sum(roll_rates.balance), 0) end as from_balance,
        case when bool_and(roll_rates.balance is not null or roll_rates.accounts is null)
            then coalesce(sum(roll_rates.balance) filter (
                where roll_rates.to_bucket = buckets.to_bucket), 0) end as flowed_balance
    from nights
    cross join buckets
    left join roll_rates
        on roll_rates.snapshot_date = nights.snapshot_date
        and roll_rates.product = nights.product
        and roll_rates.currency = nights.currency
        and roll_rates.from_bucket = buckets.from_bucket
    group by all
),

rated as (
    select *, flowed_balance / nullif(from_balance, 0) as flow_rate
    from flows
),

final as (
    select
        snapshot_date,
        product,
        currency,
        amount_currency,
        from_bucket,
        to_bucket,
        from_balance,
        flowed_balance,
        flow_rate,
        -- product over this and the later buckets; a zero anywhere makes the chain zero
        case
            when bool_or(flow_rate is null) over later_buckets then null
            when bool_or(flow_rate = 0) over later_buckets then 0
            else exp(sum(ln(flow_rate)) over later_buckets)
        end as chained_flow_to_writeoff
    from rated
    window later_buckets as (
        partition by snapshot_date, product, currency order by position
        rows between current row and unbounded following
    )
)

select * from final
