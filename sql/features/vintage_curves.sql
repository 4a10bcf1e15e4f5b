-- vintage_curves: each night's vintage curves (DOMAIN.md §2): accounts grouped by month opened,
-- the share ever 30+ and ever 90+ by months on book (MOB), as known on that night.
-- Grain: one row per (snapshot_date, open_month, months_on_book) for MOB 0 .. the vintage's age.
-- Reads account_milestones (update it first) and the night's own snapshots (balances), never the
-- history: cost does not grow with it. MOB m of a vintage is the calendar month open_month + m.
-- Left censoring: the book sees nothing before its first night (the earliest first_seen). A cell
-- whose month is before the first night's month is censored: observed is false and every ever_*
-- and share_* figure is NULL, never 0. A vintage opened before that month (first_observed_mob > 0)
-- counts "ever" from its first observed month on: an account already 30+ on the book's first night
-- counts at first_observed_mob, and accounts that left before the first night are not in it.
--   snapshot_date: the night the curves are as of
--   open_month: first day of the month the accounts opened
--   months_on_book: calendar months from the open month (0 = the month opened)
--   observed: the book saw this MOB's month (false: before the book's first night, censored)
--   first_observed_mob: the vintage's first MOB the book saw (0 for vintages opened in the book)
--   accounts: accounts of the vintage seen in the book by the night (the vintage's size)
--   balance: those accounts' balance on the night (0 for accounts not in the night's file)
--   ever_30plus: of them, accounts that reached 30+ DPD by this MOB (NULL when censored)
--   ever_90plus: the same for 90+
--   ever_30plus_balance: the night's balance of the accounts counted in ever_30plus
--   share_ever_30plus: ever_30plus / accounts (bad rate by count)
--   share_ever_90plus: ever_90plus / accounts
--   share_ever_30plus_balance: ever_30plus_balance / balance (bad rate by balance; NULL if 0)
with

nights as (
    select distinct snapshot_date
    from account_snapshots
    where snapshot_date between $start_date and $end_date
),

book as (
    select cast(date_trunc('month', min(first_seen)) as date) as first_month
    from account_milestones
),

balances as (
    select snapshot_date, account_id, sum(balance) as balance
    from account_snapshots
    where snapshot_date between $start_date and $end_date
    group by all
),

accounts as (
    select
        nights.snapshot_date,
        cast(date_trunc('month', milestones.open_date) as date) as open_month,
        greatest(date_diff('month', milestones.open_date, book.first_month), 0)
            as first_observed_mob,
        date_diff('month', milestones.open_date, nights.snapshot_date) as age_months,
        case when milestones.first_30plus <= nights.snapshot_date
            then date_diff('month', milestones.open_date, milestones.first_30plus) end as mob_30plus,
        case when milestones.first_90plus <= nights.snapshot_date
            then date_diff('month', milestones.open_date, milestones.first_90plus) end as mob_90plus,
        coalesce(balances.balance, 0) as balance
    from nights
    cross join book
    inner join account_milestones as milestones
        on milestones.first_seen <= nights.snapshot_date
        and milestones.open_date <= nights.snapshot_date
    left join balances
        on balances.snapshot_date = nights.snapshot_date
        and balances.account_id = milestones.account_id
),

profiles as (
    -- accounts sharing a vintage, an age and milestone MOBs behave alike: count them once
    select
        snapshot_date, open_month, first_observed_mob, age_months, mob_30plus, mob_90plus,
        count(*) as accounts, sum(balance) as balance
    from accounts
    group by all
),

cells as (
    select
        profiles.snapshot_date,
        profiles.open_month,
        mob.months_on_book,
        mob.months_on_book >= profiles.first_observed_mob as observed,
        profiles.first_observed_mob,
        cast(sum(profiles.accounts) as bigint) as accounts,
        cast(sum(profiles.balance) as decimal(18, 2)) as balance,
        coalesce(cast(sum(profiles.accounts) filter (
            where profiles.mob_30plus <= mob.months_on_book) as bigint), 0) as ever_30plus,
        coalesce(cast(sum(profiles.accounts) filter (
            where profiles.mob_90plus <= mob.months_on_book) as bigint), 0) as ever_90plus,
        coalesce(cast(sum(profiles.balance) filter (
            where profiles.mob_30plus <= mob.months_on_book) as decimal(18, 2)), 0)
            as ever_30plus_balance
    from profiles
    inner join (
        select unnest(range(0, 121)) as months_on_book
    ) as mob on mob.months_on_book <= profiles.age_months
    group by all
),

final as (
    select
        snapshot_date,
        open_month,
        months_on_book,
        observed,
        first_observed_mob,
        accounts,
        balance,
        case when observed then ever_30plus end as ever_30plus,
        case when observed then ever_90plus end as ever_90plus,
        case when observed then ever_30plus_balance end as ever_30plus_balance,
        case when observed then ever_30plus / accounts end as share_ever_30plus,
        case when observed then ever_90plus / accounts end as share_ever_90plus,
        case when observed and balance > 0
            then cast(ever_30plus_balance as double) / cast(balance as double)
        end as share_ever_30plus_balance
    from cells
)

select * from final
