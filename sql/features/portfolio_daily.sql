-- portfolio_daily: the book each night, per product and currency, and overall (DOMAIN.md §1).
-- Grain: one row per (snapshot_date, product, currency); `all` rows across products and/or
-- currencies. Counts add up across currencies; amounts never do: on a `currency = all` row they are
-- converted to the reporting currency at the night's rate (sql/shared/fx_rates_by_night.sql), and
-- are null when any currency of the night has no rate. Definitions: pipelines/lib/definitions.py.
-- The book = loans not written off; written-off stock (bucket WO: DPD > 180 or status
-- charged_off) is on its own line and in no delinquency rate.
--   snapshot_date: the night
--   product: a product, or `all`
--   currency: ISO 4217 currency of the accounts, or `all`
--   amount_currency: the currency of every amount on the row (the reporting currency on `all`)
--   fx_rates_used: on `all` rows, each rate used, e.g. `USD/CNY 7.1234 (2026-12-01)` (units of the
--     reporting currency per unit; `, the inverse of CNY/USD` when that pair was landed)
--   missing_rates: on `all` rows, the currencies without a rate tonight (amounts then null)
--   accounts: accounts in the night's file (closed and written-off ones included)
--   open_accounts: accounts with status open or frozen
--   balance: total balance in the file (written-off stock included)
--   book_accounts: accounts not written off (the denominator of the count rates)
--   book_balance: their balance (the loan book: the denominator of the balance rates)
--   accounts_30plus, accounts_60plus, accounts_90plus: book accounts at 31+/61+/91+ DPD
--   rate_30plus_accounts, rate_60plus_accounts, rate_90plus_accounts: those / book_accounts
--   balance_30plus, balance_60plus, balance_90plus: their balance
--   rate_30plus_balance, rate_60plus_balance, rate_90plus_balance: those / book_balance (null if 0)
--   npl_accounts: non-performing loans, 次级+可疑+损失 on the book (91+ DPD, not written off)
--   npl_balance: their balance
--   npl_ratio: npl_balance / book_balance (null if 0)
--   writeoff_accounts: written-off stock in the file (bucket WO)
--   writeoff_balance: its balance
--   new_writeoffs: accounts written off (bucket WO) tonight that were not on their previous
--     snapshot, taken within 45 days (an account first seen already written off is not counted:
--     the first night of a book would otherwise count every old write-off as new)
--   new_writeoff_balance: their balance tonight
--   month_writeoffs: new write-offs from the first of the month to the night (same rule)
--   month_writeoff_balance: their balance on the night each was written off
--   accounts_normal, accounts_special_mention, accounts_substandard, accounts_doubtful, accounts_loss: five-class
--     grading mix by count (正常 current, 关注 1-90, 次级 91-120, 可疑 121-180, 损失 >180 DPD or
--     charged off, which is the written-off stock)
--   balance_normal, balance_special_mention, balance_substandard, balance_doubtful, balance_loss: the
--     five-class grading mix by balance
with

tonight as (
    select
        snapshot_date,
        account_id,
        product,
        upper(currency) as currency,
        status,
        balance,
        days_past_due,
        delinquency_bucket(days_past_due, status) = 'WO' as written_off,
        five_class(days_past_due, status) as grade
    from account_snapshots
    where snapshot_date between $start_date and $end_date
),

month_writeoff_accounts as (
    -- accounts written off on a night from the first of the first night's month: the only ones
    -- whose history is needed for this month's new write-offs (a few percent of accounts)
    select distinct account_id
    from account_snapshots
    where snapshot_date between cast(date_trunc('month', cast($start_date as date)) as date)
        and $end_date
        and delinquency_bucket(days_past_due, status) = 'WO'
),

writeoff_history as (
    select
        snapshot_date,
        account_id,
        product,
        upper(currency) as currency,
        balance,
        delinquency_bucket(days_past_due, status) = 'WO' as written_off
    from account_snapshots
    -- an inner join on the distinct accounts, not a semi join: DuckDB built the semi join's hash
    -- table on the 65M snapshot rows (6.5 s at 1M accounts) instead of the few thousand accounts
    inner join month_writeoff_accounts using (account_id)
    where snapshot_date
        between cast(date_trunc('month', cast($start_date as date)) - interval 45 days as date)
        and $end_date
),

sequenced as (
    select
        *,
        lag(written_off) over by_account as written_off_before,
        lag(snapshot_date) over by_account as previous_date
    from writeoff_history
    window by_account as (partition by account_id order by snapshot_date)
),

writeoff_events as materialized (
    -- materialized (here and with_month): each is read twice, and DuckDB inlined them, so the
    -- month's write-off history and the whole book's aggregate ran twice (1M accounts: 20 s -> 7 s)
    -- written off on the night, not on the previous snapshot, taken within 45 days
    select snapshot_date, account_id, product, currency, balance
    from sequenced
    where snapshot_date >= cast(date_trunc('month', cast($start_date as date)) as date)
        and written_off
        and not written_off_before
        and previous_date >= snapshot_date - interval 45 days
),

flagged as (
    select
        tonight.*,
        not tonight.written_off and tonight.days_past_due >= 31 as is_30plus,
        not tonight.written_off and tonight.days_past_due >= 61 as is_60plus,
        not tonight.written_off and tonight.days_past_due >= 91 as is_90plus,
        not tonight.written_off and tonight.grade in ('substandard', 'doubtful', 'loss') as is_npl,
        writeoff_events.account_id is not null as is_new_writeoff
    from tonight
    left join writeoff_events
        on writeoff_events.snapshot_date = tonight.snapshot_date
        and writeoff_events.account_id = tonight.account_id
),

month_events as (
    -- each night's month-to-date write-offs, attributed to the product and currency of the event
    select
        nights.snapshot_date,
        writeoff_events.product,
        writeoff_events.currency,
        count(*) as month_writeoffs,
        sum(writeoff_events.balance) as month_writeoff_balance
    from (select distinct snapshot_date from tonight) as nights
    inner join writeoff_events
        on writeoff_events.snapshot_date
        between date_trunc('month', nights.snapshot_date) and nights.snapshot_date
    group by all
),

month_totals as (
    select
        snapshot_date,
        coalesce(product, 'all') as product,
        currency,
        cast(sum(month_writeoffs) as bigint) as month_writeoffs,
        sum(month_writeoff_balance) as month_writeoff_balance
    from month_events
    group by grouping sets ((snapshot_date, product, currency), (snapshot_date, currency))
),

per_currency as (
    select
        snapshot_date,
        coalesce(product, 'all') as product,
        currency,
        count(*) as accounts,
        count(*) filter (where status in ('open', 'frozen')) as open_accounts,
        sum(balance) as balance,
        count(*) filter (where not written_off) as book_accounts,
        coalesce(sum(balance) filter (where not written_off), 0) as book_balance,
        count(*) filter (where is_30plus) as accounts_30plus,
        count(*) filter (where is_60plus) as accounts_60plus,
        count(*) filter (where is_90plus) as accounts_90plus,
        coalesce(sum(balance) filter (where is_30plus), 0) as balance_30plus,
        coalesce(sum(balance) filter (where is_60plus), 0) as balance_60plus,
        coalesce(sum(balance) filter (where is_90plus), 0) as balance_90plus,
        count(*) filter (where is_npl) as npl_accounts,
        coalesce(sum(balance) filter (where is_npl), 0) as npl_balance,
        count(*) filter (where written_off) as writeoff_accounts,
        coalesce(sum(balance) filter (where written_off), 0) as writeoff_balance,
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
    group by grouping sets ((snapshot_date, product, currency), (snapshot_date, currency))
),

with_month as materialized (
    select
        per_currency.*,
        coalesce(month_totals.month_writeoffs, 0) as month_writeoffs,
        coalesce(month_totals.month_writeoff_balance, 0) as month_writeoff_balance
    from per_currency
    left join month_totals using (snapshot_date, product, currency)
),

night_rates as (
    select night as snapshot_date, currency, rate, rate_date, source_pair
    from ({% include 'shared/fx_rates_by_night.sql' %}) as fx
),

priced as (
    select
        with_month.*,
        case when with_month.currency = $reporting_currency then 1.0
            else night_rates.rate end as rate,
        night_rates.rate_date,
        night_rates.source_pair
    from with_month
    left join night_rates using (snapshot_date, currency)
),

all_currencies as (
    -- counts summed; each currency's amounts converted, or null when one has no rate
    select
        snapshot_date,
        product,
        'all' as currency,
        $reporting_currency as amount_currency,
        string_agg(
            currency || '/' || $reporting_currency || ' ' || printf('%.4f', rate) || ' ('
            || strftime(rate_date, '%Y-%m-%d')
            || case when source_pair <> currency || '/' || $reporting_currency
                then ', the inverse of ' || source_pair else '' end || ')', '; ' order by currency
        ) filter (where currency <> $reporting_currency and rate is not null) as fx_rates_used,
        string_agg(currency, ', ' order by currency) filter (where rate is null) as missing_rates,
        bool_and(rate is not null) as priced,
        cast(sum(accounts) as bigint) as accounts,
        cast(sum(open_accounts) as bigint) as open_accounts,
        sum(balance * rate) as balance,
        cast(sum(book_accounts) as bigint) as book_accounts,
        sum(book_balance * rate) as book_balance,
        cast(sum(accounts_30plus) as bigint) as accounts_30plus,
        cast(sum(accounts_60plus) as bigint) as accounts_60plus,
        cast(sum(accounts_90plus) as bigint) as accounts_90plus,
        sum(balance_30plus * rate) as balance_30plus,
        sum(balance_60plus * rate) as balance_60plus,
        sum(balance_90plus * rate) as balance_90plus,
        cast(sum(npl_accounts) as bigint) as npl_accounts,
        sum(npl_balance * rate) as npl_balance,
        cast(sum(writeoff_accounts) as bigint) as writeoff_accounts,
        sum(writeoff_balance * rate) as writeoff_balance,
        cast(sum(new_writeoffs) as bigint) as new_writeoffs,
        sum(new_writeoff_balance * rate) as new_writeoff_balance,
        cast(sum(month_writeoffs) as bigint) as month_writeoffs,
        sum(month_writeoff_balance * rate) as month_writeoff_balance,
        cast(sum(accounts_normal) as bigint) as accounts_normal,
        cast(sum(accounts_special_mention) as bigint) as accounts_special_mention,
        cast(sum(accounts_substandard) as bigint) as accounts_substandard,
        cast(sum(accounts_doubtful) as bigint) as accounts_doubtful,
        cast(sum(accounts_loss) as bigint) as accounts_loss,
        sum(balance_normal * rate) as balance_normal,
        sum(balance_special_mention * rate) as balance_special_mention,
        sum(balance_substandard * rate) as balance_substandard,
        sum(balance_doubtful * rate) as balance_doubtful,
        sum(balance_loss * rate) as balance_loss
    from priced
    group by snapshot_date, product
),

combined as (
    select
        snapshot_date, product, currency, currency as amount_currency,
        cast(null as varchar) as fx_rates_used, cast(null as varchar) as missing_rates,
        accounts, open_accounts, cast(balance as decimal(38, 2)) as balance, book_accounts,
        cast(book_balance as decimal(38, 2)) as book_balance,
        accounts_30plus, accounts_60plus, accounts_90plus,
        cast(balance_30plus as decimal(38, 2)) as balance_30plus,
        cast(balance_60plus as decimal(38, 2)) as balance_60plus,
        cast(balance_90plus as decimal(38, 2)) as balance_90plus,
        npl_accounts, cast(npl_balance as decimal(38, 2)) as npl_balance,
        writeoff_accounts, cast(writeoff_balance as decimal(38, 2)) as writeoff_balance,
        new_writeoffs, cast(new_writeoff_balance as decimal(38, 2)) as new_writeoff_balance,
        month_writeoffs, cast(month_writeoff_balance as decimal(38, 2)) as month_writeoff_balance,
        accounts_normal, accounts_special_mention, accounts_substandard, accounts_doubtful,
        accounts_loss,
        cast(balance_normal as decimal(38, 2)) as balance_normal,
        cast(balance_special_mention as decimal(38, 2)) as balance_special_mention,
        cast(balance_substandard as decimal(38, 2)) as balance_substandard,
        cast(balance_doubtful as decimal(38, 2)) as balance_doubtful,
        cast(balance_loss as decimal(38, 2)) as balance_loss
    from with_month
    union all
    select
        snapshot_date, product, currency, amount_currency, fx_rates_used, missing_rates,
        accounts, open_accounts,
        case when priced then cast(round(balance, 2) as decimal(38, 2)) end,
        book_accounts,
        case when priced then cast(round(book_balance, 2) as decimal(38, 2)) end,
        accounts_30plus, accounts_60plus, accounts_90plus,
        case when priced then cast(round(balance_30plus, 2) as decimal(38, 2)) end,
        case when priced then cast(round(balance_60plus, 2) as decimal(38, 2)) end,
        case when priced then cast(round(balance_90plus, 2) as decimal(38, 2)) end,
        npl_accounts,
        case when priced then cast(round(npl_balance, 2) as decimal(38, 2)) end,
        writeoff_accounts,
        case when priced then cast(round(writeoff_balance, 2) as decimal(38, 2)) end,
        new_writeoffs,
        case when priced then cast(round(new_writeoff_balance, 2) as decimal(38, 2)) end,
        month_writeoffs,
        case when priced then cast(round(month_writeoff_balance, 2) as decimal(38, 2)) end,
        accounts_normal, accounts_special_mention, accounts_substandard, accounts_doubtful,
        accounts_loss,
        case when priced then cast(round(balance_normal, 2) as decimal(38, 2)) end,
        case when priced then cast(round(balance_special_mention, 2) as decimal(38, 2)) end,
        case when priced then cast(round(balance_substandard, 2) as decimal(38, 2)) end,
        case when priced then cast(round(balance_doubtful, 2) as decimal(38, 2)) end,
        case when priced then cast(round(balance_loss, 2) as decimal(38, 2)) end
    from all_currencies
),

final as (
    select
        snapshot_date,
        product,
        currency,
        amount_currency,
        fx_rates_used,
        missing_rates,
        accounts,
        open_accounts,
        balance,
        book_accounts,
        book_balance,
        accounts_30plus,
        accounts_60plus,
        accounts_90plus,
        accounts_30plus / nullif(book_accounts, 0) as rate_30plus_accounts,
        accounts_60plus / nullif(book_accounts, 0) as rate_60plus_accounts,
        accounts_90plus / nullif(book_accounts, 0) as rate_90plus_accounts,
        balance_30plus,
        balance_60plus,
        balance_90plus,
        balance_30plus / nullif(book_balance, 0) as rate_30plus_balance,
        balance_60plus / nullif(book_balance, 0) as rate_60plus_balance,
        balance_90plus / nullif(book_balance, 0) as rate_90plus_balance,
        npl_accounts,
        npl_balance,
        npl_balance / nullif(book_balance, 0) as npl_ratio,
        writeoff_accounts,
        writeoff_balance,
        new_writeoffs,
        new_writeoff_balance,
        month_writeoffs,
        month_writeoff_balance,
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
    from combined
)

select * from final
