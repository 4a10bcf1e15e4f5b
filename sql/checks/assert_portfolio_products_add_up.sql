-- What: nights where portfolio_daily does not reconcile: within a currency the products' accounts,
--       30+ accounts or balance do not add up to product `all`; within a product the currencies'
--       accounts or 30+ accounts do not add up to currency `all`; `all`/`all` differs from the
--       night's snapshot count; or a `currency = all` row has amounts without every rate (or no
--       amounts with every rate).
-- Why: the committee's headline figures must reconcile to the book, and amounts in different
--      currencies are never summed raw.
-- Threshold: any difference fails (ERROR); converted amounts may differ by a cent per product
--      (each is rounded to the cent after conversion).
with

by_product as (
    select
        snapshot_date,
        currency,
        sum(accounts) filter (where product <> 'all') as product_accounts,
        sum(balance) filter (where product <> 'all') as product_balance,
        sum(accounts_30plus) filter (where product <> 'all') as product_30plus,
        count(*) filter (where product <> 'all') as products,
        any_value(accounts) filter (where product = 'all') as all_accounts,
        any_value(balance) filter (where product = 'all') as all_balance,
        any_value(accounts_30plus) filter (where product = 'all') as all_30plus
    from portfolio_daily
    where snapshot_date between $start_date and $end_date
    group by snapshot_date, currency
),

by_currency as (
    select
        snapshot_date,
        product,
        sum(accounts) filter (where currency <> 'all') as currency_accounts,
        sum(accounts_30plus) filter (where currency <> 'all') as currency_30plus,
        any_value(accounts) filter (where currency = 'all') as all_accounts,
        any_value(accounts_30plus) filter (where currency = 'all') as all_30plus,
        bool_or(currency = 'all' and (balance is null) <> (missing_rates is not null))
            as unpriced_amounts
    from portfolio_daily
    where snapshot_date between $start_date and $end_date
    group by snapshot_date, product
),

books as (
    select snapshot_date, count(*) as book_accounts
    from account_snapshots
    where snapshot_date between $start_date and $end_date
    group by snapshot_date
),

product_misses as (
    select snapshot_date, 'products of ' || currency as what
    from by_product
    where product_accounts <> all_accounts
        or product_30plus <> all_30plus
        or abs(product_balance - all_balance)
            > case when currency = 'all' then 0.01 * products else 0 end
),

currency_misses as (
    select snapshot_date, 'currencies of ' || product as what
    from by_currency
    where currency_accounts <> all_accounts or currency_30plus <> all_30plus or unpriced_amounts
),

book_misses as (
    select books.snapshot_date, 'book count' as what
    from books
    left join portfolio_daily as book
        on book.snapshot_date = books.snapshot_date and book.product = 'all'
        and book.currency = 'all'
    where book.accounts is distinct from books.book_accounts
),

final as (
    select * from product_misses
    union all
    select * from currency_misses
    union all
    select * from book_misses
)

select * from final
