-- vintage_curves: each night's vintage curves (DOMAIN.md §2): accounts grouped by month opened,
-- the share ever 30+ and ever 90+ by months on book (MOB), as known on that night.
-- Grain: one row per (snapshot_date, open_month, months_on_book) for MOB 0 .. the vintage's age.
-- Reads account_milestones (update it first), never snapshots: cost does not grow with history.
-- An account counts at MOB m once it has reached m months on book by the night.
--   snapshot_date: the night the curves are as of
--   open_month: first day of the month the accounts opened
--   months_on_book: whole months since opening
--   accounts: accounts of the vintage that have reached this MOB by the night
--   ever_30plus: of them, accounts that reached 30+ DPD within this many months of opening
--   ever_90plus: the same for 90+
--   share_ever_30plus: ever_30plus / accounts
--   share_ever_90plus: ever_90plus / accounts
with

nights as (
    select distinct snapshot_date
    from account_snapshots
    where snapshot_date between $start_date and $end_date
),

accounts as (
    select
        nights.snapshot_date,
        cast(date_trunc('month', milestones.open_date) as date) as open_month,
        date_diff('month', milestones.open_date, nights.snapshot_date) as age_months,
        case when milestones.first_30plus <= nights.snapshot_date
            then date_diff('month', milestones.open_date, milestones.first_30plus) end as mob_30plus,
        case when milestones.first_90plus <= nights.snapshot_date
            then date_diff('month', milestones.open_date, milestones.first_90plus) end as mob_90plus
    from nights
    inner join account_milestones as milestones
        on milestones.first_seen <= nights.snapshot_date
        and milestones.open_date <= nights.snapshot_date
),

profiles as (
    -- accounts sharing a vintage, an age and milestone MOBs behave alike: count them once
    select snapshot_date, open_month, age_months, mob_30plus, mob_90plus, count(*) as accounts
    from accounts
    group by all
),

cells as (
    select
        profiles.snapshot_date,
        profiles.open_month,
        mob.months_on_book,
        cast(sum(profiles.accounts) as bigint) as accounts,
        coalesce(cast(sum(profiles.accounts) filter (
            where profiles.mob_30plus <= mob.months_on_book) as bigint), 0) as ever_30plus,
        coalesce(cast(sum(profiles.accounts) filter (
            where profiles.mob_90plus <= mob.months_on_book) as bigint), 0) as ever_90plus
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
        accounts,
        ever_30plus,
        ever_90plus,
        ever_30plus / accounts as share_ever_30plus,
        ever_90plus / accounts as share_ever_90plus
    from cells
)

select * from final
