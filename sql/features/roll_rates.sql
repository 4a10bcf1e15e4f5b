-- roll_rates: the roll-rate matrix of each night (DOMAIN.md §2), overall and per product.
-- Grain: one row per (snapshot_date, product, from_bucket, to_bucket) with at least one account.
-- From = the account's state on the comparison night, one_month_earlier(snapshot_date), or the
-- latest snapshot night up to 3 days before it (a missed night); to = its state tonight.
-- State = delinquency bucket M0..M6/WO, or `closed` for a closed account. Accounts that appear
-- between the dates come from row `new`; accounts that disappear go to column `gone`: so the
-- row totals (without `new`) equal the comparison night's book and the column totals (without
-- `gone`) equal tonight's.
--   snapshot_date: the night the matrix ends on
--   from_date: the comparison night (about one month earlier)
--   product: a product, or `all`
--   from_bucket: state on from_date (`new` if the account did not exist then)
--   to_bucket: state on snapshot_date (`gone` if the account is not in tonight's file)
--   accounts: number of accounts
--   balance: their balance on from_date (tonight's balance for row `new`)
--   share_of_row_accounts: accounts / accounts of the row
--   share_of_row_balance: balance / balance of the row (null when the row's balance is 0)
with

nights as (
    select distinct snapshot_date
    from account_snapshots
    where snapshot_date between $start_date and $end_date
),

available as (
    select distinct snapshot_date as available_date
    from account_snapshots
    where snapshot_date between $start_date - interval 35 days and $end_date
),

comparison as (
    select
        nights.snapshot_date,
        max(available.available_date) as from_date
    from nights
    inner join available
        on available.available_date between one_month_earlier(nights.snapshot_date) - interval 3 days
        and one_month_earlier(nights.snapshot_date)
    group by nights.snapshot_date
),

wanted_dates as (
    select snapshot_date as wanted_date from comparison
    union
    select from_date from comparison
),

states as (
    -- only the nights and their comparison nights, not every night in between
    select
        snapshot_date,
        account_id,
        product,
        balance,
        case when status = 'closed' then 'closed'
            else delinquency_bucket(days_past_due, status) end as state
    from account_snapshots
    semi join wanted_dates on wanted_dates.wanted_date = account_snapshots.snapshot_date
    where snapshot_date between $start_date - interval 35 days and $end_date
),

carried as (
    -- every account of the comparison night, to its state tonight or `gone`
    select
        comparison.snapshot_date,
        comparison.from_date,
        earlier.product,
        earlier.state as from_bucket,
        coalesce(later.state, 'gone') as to_bucket,
        earlier.balance
    from comparison
    inner join states as earlier on earlier.snapshot_date = comparison.from_date
    left join states as later
        on later.snapshot_date = comparison.snapshot_date and later.account_id = earlier.account_id
),

opened as (
    -- every account of tonight that the comparison night did not have
    select
        comparison.snapshot_date,
        comparison.from_date,
        later.product,
        'new' as from_bucket,
        later.state as to_bucket,
        later.balance
    from comparison
    inner join states as later on later.snapshot_date = comparison.snapshot_date
    anti join states as earlier
        on earlier.snapshot_date = comparison.from_date and earlier.account_id = later.account_id
),

anchored as (
    select * from carried
    union all
    select * from opened
),

counted as (
    select
        snapshot_date,
        from_date,
        coalesce(product, 'all') as product,
        from_bucket,
        to_bucket,
        count(*) as accounts,
        sum(balance) as balance
    from anchored
    group by grouping sets (
        (snapshot_date, from_date, product, from_bucket, to_bucket),
        (snapshot_date, from_date, from_bucket, to_bucket)
    )
),

final as (
    select
        snapshot_date,
        from_date,
        product,
        from_bucket,
        to_bucket,
        accounts,
        balance,
        accounts / sum(accounts) over row_total as share_of_row_accounts,
        balance / nullif(sum(balance) over row_total, 0) as share_of_row_balance
    from counted
    window row_total as (partition by snapshot_date, product, from_bucket)
)

select * from final
