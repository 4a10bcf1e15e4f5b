-- What: nights whose roll-rate matrix does not reconcile to the two nights' books: rows (without
--       `new`) must total the comparison night's accounts and balance, columns (without `gone`)
--       tonight's accounts.
-- Why: accounts that open or disappear are counted in their own row/column, never dropped.
-- Threshold: any difference fails (ERROR).
with

matrix as (
    select
        snapshot_date,
        any_value(from_date) as from_date,
        sum(accounts) filter (where from_bucket <> 'new') as from_accounts,
        sum(balance) filter (where from_bucket <> 'new') as from_balance,
        sum(accounts) filter (where to_bucket <> 'gone') as to_accounts
    from roll_rates
    where snapshot_date between $start_date and $end_date and product = 'all'
    group by snapshot_date
),

books as (
    select snapshot_date, count(*) as accounts, sum(balance) as balance
    from account_snapshots
    where snapshot_date between $start_date - interval 35 days and $end_date
    group by snapshot_date
),

final as (
    select
        matrix.snapshot_date,
        matrix.from_date,
        matrix.from_accounts,
        earlier.accounts as book_accounts_then,
        matrix.from_balance,
        earlier.balance as book_balance_then,
        matrix.to_accounts,
        later.accounts as book_accounts_tonight
    from matrix
    inner join books as earlier on earlier.snapshot_date = matrix.from_date
    inner join books as later on later.snapshot_date = matrix.snapshot_date
    where matrix.from_accounts <> earlier.accounts
        or coalesce(matrix.from_balance, 0) <> coalesce(earlier.balance, 0)
        or matrix.to_accounts <> later.accounts
)

select * from final
