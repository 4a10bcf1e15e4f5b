-- Benchmark book for the report: $accounts accounts on the nights of table `bench_nights` only
-- (weekly nights and the month-apart nights the report compares), written straight into
-- account_snapshots. Each account has one delinquency episode (start day, length) in which DPD
-- rises by one a day, then cures; about 8% never pay late; some accounts open during the window
-- and a few close. Cheap to generate, with every bucket, roll and write-off the report shows.
insert into account_snapshots by name
with

accounts as (
    select
        n,
        'AC' || lpad(cast(n as varchar), 8, '0') as account_id,
        'CU' || lpad(cast(n // 1.1 as varchar), 8, '0') as customer_id,
        case when n % 5 = 0 then 'installment' else 'revolving' end as product,
        cast($end_date - interval (30 + (n * 37) % 700) day as date) as open_date,
        (n * 7919) % 150 as episode_start,
        case when n % 13 = 0 then 0 else (n * 104729) % 220 end as episode_length,
        5000 + (n % 50) * 1000 as credit_limit,
        (n * 31) % 4000 + 100 as base_balance
    from range($accounts) as t(n)
),

rows_ as (
    select
        bench_nights.snapshot_date,
        accounts.*,
        150 - date_diff('day', bench_nights.snapshot_date, $end_date) as day_number
    from accounts
    cross join bench_nights
    where accounts.open_date <= bench_nights.snapshot_date
),

staged as (
    select
        *,
        case
            when day_number >= episode_start and day_number < episode_start + episode_length
                then day_number - episode_start + 1
            else 0
        end as days_past_due
    from rows_
)

select
    snapshot_date,
    account_id,
    customer_id,
    product,
    open_date,
    case when days_past_due > 180 then 'charged_off'
        when n % 97 = 0 and day_number > 120 then 'closed' else 'open' end as status,
    'CNY' as currency,
    cast(credit_limit as decimal(18, 2)) as credit_limit,
    cast(base_balance + (day_number % 30) * 10 as decimal(18, 2)) as balance,
    cast(base_balance / 10 as decimal(18, 2)) as amount_due,
    cast(case when days_past_due > 0 then base_balance / 10 else 0 end as decimal(18, 2))
        as past_due_amount,
    days_past_due,
    cast(snapshot_date + interval 20 day as date) as next_due_date,
    cast(0 as decimal(18, 2)) as payment_amount,
    cast(null as date) as last_payment_date,
    cast(null as json) as extra_columns,
    'bench' as source_file,
    n as source_row
from staged
