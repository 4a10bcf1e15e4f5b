-- portfolio_daily: the book each night, overall and per product (DOMAIN.md §1).
-- Grain: one row per (snapshot_date, product). 30+/60+/90+ = DPD >= 31/61/91, or written off.
--   snapshot_date: the night
--   product: a product, or `all`
--   accounts: accounts in the night's file (closed ones included)
--   open_accounts: accounts with status open or frozen
--   balance: total balance
--   accounts_30plus, accounts_60plus, accounts_90plus: accounts at or beyond 31/61/91 DPD
--   rate_30plus_accounts, rate_60plus_accounts, rate_90plus_accounts: those / accounts
--   balance_30plus, balance_60plus, balance_90plus: their balance
--   rate_30plus_balance, rate_60plus_balance, rate_90plus_balance: those / balance (null if 0)
--   new_writeoffs: accounts written off (bucket WO) tonight that were not on their previous
--     snapshot, taken within 45 days (an account first seen already written off is not counted:
--     the first night of a book would otherwise count every old write-off as new)
--   new_writeoff_balance: their balance
--   accounts_normal, accounts_special_mention, accounts_substandard, accounts_doubtful, accounts_loss: five-class
--     grading mix by count (正常 current, 关注 1-90, 次级 91-120, 可疑 121-180, 损失 >180 DPD)
--   balance_normal, balance_special_mention, balance_substandard, balance_doubtful, balance_loss: the
--     five-class grading mix by balance
with

tonight as (
    select
        snapshot_date,
        account_id,
        product,
        status,
        balance,
        days_past_due,
        delinquency_bucket(days_past_due, status) = 'WO' as written_off,
        five_class(days_past_due, status) as grade
    from account_snapshots
    where snapshot_date between $start_date and $end_date
),

previous as (
    -- only tonight's written-off accounts need their previous snapshot (a few percent of rows)
    select
        tonight.snapshot_date,
        tonight.account_id,
        arg_max(
            delinquency_bucket(earlier.days_past_due, earlier.status) = 'WO', earlier.snapshot_date
        ) as written_off_before
    from tonight
    inner join account_snapshots as earlier
        on earlier.account_id = tonight.account_id
        and earlier.snapshot_date < tonight.snapshot_date
        and earlier.snapshot_date >= tonight.snapshot_date - interval 45 days
    where tonight.written_off
        and earlier.snapshot_date between $start_date - interval 45 days and $end_date
    group by tonight.snapshot_date, tonight.account_id
),

flagged as (
    select
        tonight.*,
        tonight.written_off or tonight.days_past_due >= 31 as is_30plus,
        tonight.written_off or tonight.days_past_due >= 61 as is_60plus,
        tonight.written_off or tonight.days_past_due >= 91 as is_90plus,
        tonight.written_off and previous.written_off_before = false as is_new_writeoff
    from tonight
    left join previous
        on previous.snapshot_date = tonight.snapshot_date
        and previous.account_id = tonight.account_id
),

aggregated as (
    select
        snapshot_date,
        coalesce(product, 'all') as product,
        count(*) as accounts,
        count(*) filter (where status in ('open', 'frozen')) as open_accounts,
        sum(balance) as balance,
        count(*) filter (where is_30plus) as accounts_30plus,
        count(*) filter (where is_60plus) as accounts_60plus,
        count(*) filter (where is_90plus) as accounts_90plus,
        coalesce(sum(balance) filter (where is_30plus), 0) as balance_30plus,
        coalesce(sum(balance) filter (where is_60plus), 0) as balance_60plus,
        coalesce(sum(balance) filter (where is_90plus), 0) as balance_90plus,
        count(*) filter (where is_new_writeoff) as new_writeoffs,
        coalesce(sum(balance) filter (where is_new_writeoff), 0) as new_writeoff_balance,
        count(*) filter (where grade = 'normal') as accounts_normal,
        count(*) filter (where grade = 'special_mention') as accounts_special_mention,
        count(*) filter (where grade = 'substandard') as accounts_substandard,
        count(*) filter (where grade = 'doubtful') as accounts_doubtful,
        count(*) filter (where grade = 'loss') as accounts_loss,
        coalesce(sum(balance) filter (where grade = 'normal'), 0) as balance_normal,
        coalesce(sum(balance) filter (where grade = 'special_mention'), 0) as balance_special_mention,
        coalesce(sum(balance) filter (where grade = 'substandard'), 0) as balance_substandard,
        coalesce(sum(balance) filter (where grade = 'doubtful'), 0) as balance_doubtful,
        coalesce(sum(balance) filter (where grade = 'loss'), 0) as balance_loss
    from flagged
    group by grouping sets ((snapshot_date, product), (snapshot_date))
),

final as (
    select
        snapshot_date,
        product,
        accounts,
        open_accounts,
        balance,
        accounts_30plus,
        accounts_60plus,
        accounts_90plus,
        accounts_30plus / accounts as rate_30plus_accounts,
        accounts_60plus / accounts as rate_60plus_accounts,
        accounts_90plus / accounts as rate_90plus_accounts,
        balance_30plus,
        balance_60plus,
        balance_90plus,
        balance_30plus / nullif(balance, 0) as rate_30plus_balance,
        balance_60plus / nullif(balance, 0) as rate_60plus_balance,
        balance_90plus / nullif(balance, 0) as rate_90plus_balance,
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
    from aggregated
)

select * from final
