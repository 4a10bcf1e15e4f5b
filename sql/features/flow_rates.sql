-- flow_rates: balance flowing one bucket forward each month, and chained to write-off (DOMAIN §2).
-- Grain: one row per (snapshot_date, product, from_bucket) for from_bucket M0..M6.
-- Built on roll_rates of the same nights (run after it).
--   snapshot_date: the night the month ends on
--   product: a product, or `all`
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
    select distinct snapshot_date, product
    from roll_rates
    where snapshot_date between $start_date and $end_date
),

flows as (
    select
        nights.snapshot_date,
        nights.product,
        buckets.from_bucket,
        buckets.to_bucket,
        buckets.position,
        coalesce(sum(roll_rates.balance), 0) as from_balance,
        coalesce(sum(roll_rates.balance) filter (
            where roll_rates.to_bucket = buckets.to_bucket), 0) as flowed_balance
    from nights
    cross join buckets
    left join roll_rates
        on roll_rates.snapshot_date = nights.snapshot_date
        and roll_rates.product = nights.product
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
        partition by snapshot_date, product order by position
        rows between current row and unbounded following
    )
)

select * from final
