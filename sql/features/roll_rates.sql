-- roll_rates: the roll-rate matrix of each night (DOMAIN.md §2), per product and currency, and overall.
-- Grain: one row per (snapshot_date, product, currency, from_bucket, to_bucket) with at least one
-- account. An account's currency is its currency on the comparison night (tonight's for `new`).
-- Counts add up across currencies; on `currency = all` rows balances are converted to the
-- reporting currency at tonight's rate (sql/shared/fx_rates_by_night.sql: one rate for both
-- nights, so a flow is not an exchange-rate move), and are null when any currency of the night has
-- no rate.
-- From = the account's state on the comparison night, one_month_earlier(snapshot_date), or the
-- latest snapshot night up to 3 days before it (a missed night); to = its state tonight.
-- State = delinquency bucket M0..M6/WO, or `closed` for a closed account. Accounts that appear
-- between the dates come from row `new`; accounts that disappear go to column `gone`: so the
-- row totals (without `new`) equal the comparison night's book and the column totals (without
-- `gone`) equal tonight's.
--   snapshot_date: the night the matrix ends on
--   from_date: the comparison night (about one month earlier)
--   product: a product, or `all`
--   currency: ISO 4217 currency of the accounts, or `all`
--   amount_currency: the currency of balance (the reporting currency on `all` rows)
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
        upper(currency) as currency,
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
        earlier.currency,
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
        later.currency,
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
        currency,
        from_bucket,
        to_bucket,
        count(*) as accounts,
        sum(balance) as balance
    from anchored
    group by grouping sets (
        (snapshot_date, from_date, product, currency, from_bucket, to_bucket),
        (snapshot_date, from_date, currency, from_bucket, to_bucket)
    )
),

night_rates as (
    select night as snapshot_date, currency, rate
    from ({% include 'shared/fx_rates_by_night.sql' %}) as fx
),

priced as (
    select
        counted.*,
        case when counted.currency = $reporting_currency then 1.0 else night_rates.rate end
            as rate
    from counted
    left join night_rates using (snapshot_date, currency)
),

all_currencies as (
    select
        snapshot_date,
        from_date,
        product,
        'all' as currency,
        from_bucket,
        to_bucket,
        cast(sum(accounts) as bigint) as accounts,
        case when bool_and(priced_night) then cast(round(sum(balance * rate), 2) as decimal(38, 2))
            end as balance
    from (
        select *, bool_and(rate is not null) over (partition by snapshot_date) as priced_night
        from priced
    ) as night_priced
    group by snapshot_date, from_date, product, from_bucket, to_bucket
),

combined as (
    select
        snapshot_date, from_date, product, currency, currency as amount_currency, from_bucket,
        to_bucket, accounts, cast(balance as decimal(38, 2)) as balance
    from counted
    union all
    select
        snapshot_date, from_date, product, currency, $reporting_currency, from_bucket, to_bucket,
        accounts, balance
    from all_currencies
),

final as (
    select
        snapshot_date,
        from_date,
        product,
        currency,
        amount_currency,
        from_bucket,
        to_bucket,
        accounts,
        balance,
        accounts / sum(accounts) over row_total as share_of_row_accounts,
        balance / nullif(sum(balance) over row_total, 0) as share_of_row_balance
    from combined
    window row_total as (partition by snapshot_date, product, currency, from_bucket)
)

select * from final
