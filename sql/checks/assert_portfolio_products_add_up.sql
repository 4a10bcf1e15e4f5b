-- What: nights where the products' accounts, balance or 30+ accounts do not add up to `all`,
--       or where `all` differs from the night's snapshot count.
-- Why: the committee's headline figures must reconcile to the book.
-- Threshold: any difference fails (ERROR).
with

by_product as (
    select
        snapshot_date,
        sum(accounts) filter (where product <> 'all') as product_accounts,
        sum(balance) filter (where product <> 'all') as product_balance,
        sum(accounts_30plus) filter (where product <> 'all') as product_30plus,
        any_value(accounts) filter (where product = 'all') as all_accounts,
        any_value(balance) filter (where product = 'all') as all_balance,
        any_value(accounts_30plus) filter (where product = 'all') as all_30plus
    from portfolio_daily
    where snapshot_date between $start_date and $end_date
    group by snapshot_date
),

books as (
    select snapshot_date, count(*) as book_accounts
    from account_snapshots
    where snapshot_date between $start_date and $end_date
    group by snapshot_date
),

final as (
    select by_product.*, books.book_accounts
    from by_product
    inner join books using (snapshot_date)
    where product_accounts <> all_accounts
        or product_balance <> all_balance
        or product_30plus <> all_30plus
        or all_accounts <> book_accounts
)

select * from final
