-- Benchmark history: $accounts accounts x $days daily snapshots ending $end_date, written
-- straight into account_snapshots (the measured night then goes through the real path).
-- Each account has one delinquency episode (start day, length) in which DPD rises by one a day
-- and then cures; 8% of accounts never pay late. Cheap to generate, realistic in volume and in
-- the shape the feature queries must handle (entries, cures, bucket moves, limit changes).
insert into account_snapshots by name
with

accounts as (
    select
        account_number,
        'AC' || lpad(cast(account_number as varchar), 8, '0') as account_id,
        'CU' || lpad(cast(account_number // 1.1 as varchar), 8, '0') as customer_id,
        case when account_number % 5 = 0 then 'installment' else 'revolving' end as product,
        cast($end_date - interval (400 + account_number % 900) day as date) as open_date,
        (account_number * 7919) % $days as episode_start,
        case when account_number % 13 = 0 then 0 else (account_number * 104729) % 140 end
            as episode_length,
        5000 + (account_number % 50) * 1000 as credit_limit,
        (account_number * 31) % 4000 + 100 as base_balance
    from range($accounts) as t(account_number)
),

days as (
    select day_number, cast($end_date - interval ($days - 1 - day_number) day as date) as snapshot_date
    from range($days) as t(day_number)
),

rows_ as (
    select
        days.snapshot_date,
        accounts.*,
        case
            when days.day_number >= accounts.episode_start
                and days.day_number < accounts.episode_start + accounts.episode_length
                then days.day_number - accounts.episode_start + 1
            else 0
        end as days_past_due,
        days.day_number
    from accounts
    cross join days
),

final as (
    select
        snapshot_date,
        account_id,
        customer_id,
        product,
        open_date,
        case when days_past_due > 180 then 'charged_off' else 'open' end as status,
        'CNY' as currency,
        cast(credit_limit + case when day_number > 60 and account_number % 17 = 0 then 1000 else 0 end
            as decimal(18, 2)) as credit_limit,
        cast(base_balance + (day_number % 30) * 10 as decimal(18, 2)) as balance,
        cast(base_balance / 10 as decimal(18, 2)) as amount_due,
        cast(case when days_past_due > 0 then base_balance / 10 else 0 end as decimal(18, 2))
            as past_due_amount,
        days_past_due,
        cast(snapshot_date + interval (20 - day_number % 30) day as date) as next_due_date,
        cast(case when day_number % 30 = 0 and days_past_due = 0 then base_balance / 10 else 0 end
            as decimal(18, 2)) as payment_amount,
        cast(snapshot_date - interval (day_number % 30) day as date) as last_payment_date,
        cast(null as json) as extra_columns,
        'bench' as source_file,
        account_number + 1 as source_row
    from rows_
)

select * from final
