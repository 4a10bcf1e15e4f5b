-- What: nights whose roll-rate matrix does not reconcile to the two nights' books: per currency,
--       rows (without `new`) must total the comparison night's accounts and balance, columns
--       (without `gone`) tonight's accounts; and over every currency (`all`), the accounts.
--       (A converted balance has no raw book to compare with: each currency's is checked.)
-- Why: accounts that open or disappear are counted in their own row/column, never dropped.
-- Threshold: any difference fails (ERROR).
with

matrix as (
    select
        snapshot_date,
        currency,
        any_value(from_date) as from_date,
        sum(accounts) filter (where from_bucket <> 'new') as from_accounts,
        sum(balance) filter (where from_bucket <> 'new') as from_balance,
        sum(accounts) filter (where to_bucket <> 'gone') as to_accounts
    from roll_rates
    where snapshot_date between $start_date and $end_date and product = 'all'
    group by snapshot_date, currency
),

books as (
    select
        snapshot_date,
        coalesce(upper(currency), 'all') as currency,
        count(*) as accounts,
        sum(balance) as balance
    from account_snapshots
    where snapshot_date between $start_date - interval 35 days and $end_date
    group by grouping sets ((snapshot_date, upper(currency)), (snapshot_date))
),

final as (
    select
        matrix.snapshot_date,
        matrix.currency,
        matrix.from_date,
        matrix.from_accounts,
        earlier.accounts as book_accounts_then,
        matrix.from_balance,
        earlier.balance as book_balance_then,
        matrix.to_accounts,
        later.accounts as book_accounts_tonight
    from matrix
    inner join books as earlier
        on earlier.snapshot_date = matrix.from_date and earlier.currency = matrix.currency
    inner join books as later
        on later.snapshot_date = matrix.snapshot_date and later.currency = matrix.currency
    where matrix.from_accounts <> earlier.accounts
        or (matrix.currency <> 'all'
            and coalesce(matrix.from_balance, 0) <> coalesce(earlier.balance, 0))
        or matrix.to_accounts <> later.accounts
)

select * from final
