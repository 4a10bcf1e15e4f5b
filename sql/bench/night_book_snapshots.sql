-- Benchmark book for the end-to-end night (pipelines/bench_night.py): account_snapshots rows of
-- $accounts accounts on the nights $first_night..$last_night, every night a pure function of
-- (account, night) so history can be generated straight into DuckDB and the measured night
-- written as a landing file with the same generator.
-- Grain: one row per account per night (every account exists every night).
-- Delinquency: each account has a risk r in [0, 1) and at most one delinquency episode, which
-- happens with probability 0.05 + 0.6 r^2 and starts on a day drawn uniformly in the 330 days
-- before $end_date (or the 30 after it), so the delinquent share of a night does not depend on how
-- long the generated history is. DPD rises by one a day for the episode's length (exponential,
-- mean 10 + 80 r days); past 180 DPD the account is charged off and stays so. Utilisation rises
-- with r, so tonight's features carry signal about next month's bucket (the model's label).
-- About 5% of a night's accounts are delinquent, under 1% written off.
-- Columns (those of account_snapshots):
--   snapshot_date: the night
--   account_id: 'BN' + 9-digit account number
--   customer_id: 'BC' + 9-digit customer number (account number * 10 // 11: some customers hold
--     two accounts)
--   product: installment for every fifth account, else revolving
--   open_date: 400 to 1,299 days before $end_date
--   status: charged_off past 180 DPD, else open
--   currency: USD for customers of country US (customer number % 10 = 0), else CNY
--   credit_limit: 2,000 to 51,000 (+1,000 after day 60 of the book for every 17th account)
--   balance: limit x utilisation plus a monthly saw-tooth of spending
--   amount_due: a tenth of the balance
--   past_due_amount: amount_due x (1 + DPD // 30) capped at the balance, 0 when current
--   days_past_due: days into the episode, 0 outside it
--   next_due_date: the account's monthly due day (30-day cycle)
--   payment_amount: amount_due on the due day when current, the past due amount on the cure day
--   last_payment_date: the latest due day (or cure day) on or before the night
--   extra_columns: null
--   source_file: 'bench'
--   source_row: account number + 1
with

accounts as (
    select
        account_number,
        'BN' || lpad(cast(account_number as varchar), 9, '0') as account_id,
        account_number * 10 // 11 as customer_number,
        hash(account_number, 1) % 1000000 / 1000000.0 as risk,
        hash(account_number, 2) % 1000000 / 1000000.0 as draw_episode,
        hash(account_number, 3) % 1000000 / 1000000.0 as draw_start,
        hash(account_number, 4) % 1000000 / 1000000.0 as draw_length,
        hash(account_number, 5) % 1000000 / 1000000.0 as draw_spend,
        cast(hash(account_number, 6) % 30 as integer) as due_offset,
        2000 + (hash(account_number, 7) % 50) * 1000 as base_limit
    from range($accounts) as t(account_number)
),

shaped as (
    select
        *,
        draw_episode < 0.05 + 0.6 * risk * risk as has_episode,
        cast(floor(draw_start * 360) as integer) - 330 as episode_start,
        1 + cast(floor(-ln(1 - draw_length) * (10 + 80 * risk)) as integer) as episode_length,
        least(0.95, 0.05 + 0.55 * risk + 0.35 * draw_spend) as utilisation
    from accounts
),

nights as (
    select
        cast(night as date) as snapshot_date,
        cast(night as date) - cast($end_date as date) as day_number
    from range(cast($first_night as date), cast($last_night as date) + interval 1 day,
        interval 1 day) as t(night)
),

rows_ as (
    select
        nights.snapshot_date,
        nights.day_number,
        shaped.*,
        case
            when shaped.has_episode
                and nights.day_number >= shaped.episode_start
                and (nights.day_number < shaped.episode_start + shaped.episode_length
                    or shaped.episode_length > 180)
                then nights.day_number - shaped.episode_start + 1
            else 0
        end as days_past_due,
        shaped.has_episode and shaped.episode_length <= 180
            and nights.day_number = shaped.episode_start + shaped.episode_length as cures_tonight,
        (nights.day_number - shaped.due_offset) % 30 = 0 as due_tonight,
        ((nights.day_number - shaped.due_offset) % 30 + 30) % 30 as days_since_due
    from shaped
    cross join nights
),

amounts as (
    select
        *,
        base_limit + case when account_number % 17 = 0 and day_number > -300 then 1000 else 0 end
            as limit_tonight,
        base_limit * utilisation + 100 + days_since_due * 10 as balance_tonight
    from rows_
),

final as (
    select
        snapshot_date,
        account_id,
        'BC' || lpad(cast(customer_number as varchar), 9, '0') as customer_id,
        case when account_number % 5 = 0 then 'installment' else 'revolving' end as product,
        cast(cast($end_date as date) - interval (400 + account_number % 900) day as date)
            as open_date,
        case when days_past_due > 180 then 'charged_off' else 'open' end as status,
        case when customer_number % 10 = 0 then 'USD' else 'CNY' end as currency,
        cast(limit_tonight as decimal(18, 2)) as credit_limit,
        cast(balance_tonight as decimal(18, 2)) as balance,
        cast(balance_tonight / 10 as decimal(18, 2)) as amount_due,
        cast(case when days_past_due > 0
            then least(balance_tonight, balance_tonight / 10 * (1 + days_past_due // 30))
            else 0 end as decimal(18, 2)) as past_due_amount,
        cast(days_past_due as integer) as days_past_due,
        cast(snapshot_date + interval (30 - days_since_due) day as date) as next_due_date,
        cast(case
            when cures_tonight then balance_tonight / 10
            when due_tonight and days_past_due = 0 then balance_tonight / 10
            else 0
        end as decimal(18, 2)) as payment_amount,
        cast(snapshot_date - interval (days_since_due) day as date) as last_payment_date,
        cast(null as json) as extra_columns,
        'bench' as source_file,
        account_number + 1 as source_row
    from amounts
)

select * from final
