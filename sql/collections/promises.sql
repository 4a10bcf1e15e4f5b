{%- set decide_within_days = 45 %}
-- The promise ledger as of night $as_of: every promise to pay landed by then and not already held
-- settled, followed to kept or broken by the payments the account snapshots report. Grain: one
-- row per promise.
-- Promises come from the contact_events feed (event_type promise_to_pay, amount, until_date)
-- and, {{ 'as in this rendering' if has_outcomes else 'when the table exists (not in this rendering)' }},
-- from contact_outcomes (outcome promise_to_pay), whose account and customer are the contact's
-- in contact_history. A customer-wide event (account_id null) is the customer's promise: every
-- account of the customer pays toward it.
-- Payments: a snapshot's payment_amount is what was paid since the customer's previous snapshot
-- (DOMAIN §7), dated by its last_payment_date (the snapshot date when empty). It counts toward a
-- promise when that date is from the promise's day (the lender's day of the call or event, in
-- $lender_timezone, not after the night whose file carried it) to due_by
-- (promised_date + $grace_days). A daily book dates each payment to its day; a monthly book
-- reports a month's payments on its month-end row, dated by the month's last payment, so a month
-- that paid both before and after due_by counts as after (broken unless already kept).
-- Status as of $as_of, decided only from snapshots dated by then (a rerun and a backfill to the
-- same night give the same ledger):
--   kept: the counted payments reached the promised amount; resolved the first snapshot night they
--     did (not before the night the promise landed)
--   broken: the account's first snapshot dated on or after due_by came and the payments fell short
--   superseded: a newer promise on the same account (customer, for customer-wide ones) landed
--     before this one was kept or broken; superseded_by names it
--   unverifiable: books dated on or after due_by exist but none holds the account (closed and gone,
--     or its rows quarantined) within {{ decide_within_days }} days after due_by; also a promise without an amount or a date, or a customer-wide one
--     over accounts in several currencies (money is never added across currencies); a snapshot of
--     the account arriving later decides it after all
--   open: none of these yet
-- Columns:
--   promise_id: pe:<event_id> (contact_events) or po:<outcome_id> (contact_outcomes)
--   source: contact_events or contact_outcomes
--   source_id: the event_id or outcome_id
--   account_id: the account promised for; null for a customer-wide promise
--   customer_id: the debtor
--   currency: the account's currency, in which the amounts are; null when unknown or several
--   made_at: when the promise was made (event_time, outcome_time)
--   promised_night: the night whose file carried the promise
--   promised_amount: the amount promised
--   promised_date: the date promised
--   due_by: promised_date + the grace days: the last payment day that keeps it
--   agent_id: the collector who took the promise (contact_outcomes), null otherwise
--   agency_id: the outside agency that took it (contact_outcomes), null otherwise
--   tier_at_promise: the account's tier on its latest collection_tiers row by the promised night
--   status: open, kept, broken, superseded, unverifiable (above)
--   paid_amount: payments counted toward the promise by resolved_night (by $as_of while open)
--   resolved_night: the night the status was decided; null while open
--   superseded_by: the promise_id of the newer promise (superseded only)
--   as_of_night: $as_of
with

made as (
    select
        'pe:' || event_id as promise_id,
        'contact_events' as source,
        event_id as source_id,
        account_id,
        customer_id,
        event_time as made_at,
        landing_date as promised_night,
        cast(amount as decimal(18, 2)) as promised_amount,
        until_date as promised_date,
        cast(null as varchar) as agent_id,
        cast(null as varchar) as agency_id
    from contact_events
    where event_type = 'promise_to_pay' and landing_date <= cast($as_of as date)
{%- if has_outcomes %}
    union all
    select
        'po:' || o.outcome_id as promise_id,
        'contact_outcomes' as source,
        o.outcome_id as source_id,
        h.account_id,
        h.customer_id,
        o.outcome_time as made_at,
        o.landing_date as promised_night,
        cast(o.promised_amount as decimal(18, 2)) as promised_amount,
        o.promised_date,
        o.agent_id,
        o.agency_id
    from contact_outcomes as o
    inner join contact_history as h on h.contact_id = o.contact_id
    where o.outcome = 'promise_to_pay' and o.landing_date <= cast($as_of as date)
{%- endif %}
),

every_promise as (
    select
        m.*,
        -- the lender's day (nights and snapshot dates are in it), never after the file's night
        least(cast(timezone($lender_timezone, m.made_at) as date), m.promised_night) as made_day,
        m.promised_date + cast($grace_days as integer) as due_by,
        lead(m.promise_id) over newer as next_promise,
        lead(m.promised_night) over newer as next_night
    from made as m
    window newer as (
        partition by m.customer_id, coalesce(m.account_id, '')
        order by m.promised_night, m.made_at, m.promise_id
    )
),

-- the promises to decide: those the ledger does not hold settled
-- (sql/collections/delete_unsettled_promises.sql ran first)
promised as (
    select ep.*
    from every_promise as ep
    anti join promises as settled on settled.promise_id = ep.promise_id
),

snaps as (
    select
        snapshot_date,
        account_id,
        customer_id,
        currency,
        payment_amount,
        coalesce(last_payment_date, snapshot_date) as pay_day
    from account_snapshots
    where snapshot_date <= cast($as_of as date)
        and snapshot_date >= (select min(made_day) from promised)
),

-- each promise's snapshots from its day to {{ decide_within_days }} days after due_by (a monthly
-- book's next month end is within them): the account's, or every account of the customer's
scoped as (
    select p.promise_id, s.snapshot_date, s.currency, s.payment_amount, s.pay_day
    from promised as p
    inner join snaps as s on s.account_id = p.account_id
    where s.snapshot_date between p.made_day and p.due_by + {{ decide_within_days }}
    union all
    select p.promise_id, s.snapshot_date, s.currency, s.payment_amount, s.pay_day
    from promised as p
    inner join snaps as s on s.customer_id = p.customer_id
    where p.account_id is null
        and s.snapshot_date between p.made_day and p.due_by + {{ decide_within_days }}
),

currencies as (
    select
        promise_id,
        count(distinct currency) as currencies,
        min(currency) as currency
    from scoped
    group by promise_id
),

paid_by_night as (
    select
        sc.promise_id,
        sc.snapshot_date,
        sum(case
            when sc.payment_amount > 0 and sc.pay_day between p.made_day and p.due_by
                then sc.payment_amount else 0
        end) as paid
    from scoped as sc
    inner join promised as p on p.promise_id = sc.promise_id
    group by sc.promise_id, sc.snapshot_date
),

running as (
    select
        promise_id,
        snapshot_date,
        sum(paid) over (partition by promise_id order by snapshot_date) as paid_to_date
    from paid_by_night
),

book_nights as (
    select distinct snapshot_date from snaps
),

reached as (
    select
        p.promise_id,
        min(r.snapshot_date) filter (where r.paid_to_date >= p.promised_amount) as paid_night,
        min(r.snapshot_date) filter (where r.snapshot_date >= p.due_by) as first_after
    from promised as p
    left join running as r on r.promise_id = p.promise_id
    group by p.promise_id
),

candidates as (
    select
        p.*,
        c.currency as scope_currency,
        coalesce(c.currencies, 0) as currencies,
        case
            when re.paid_night <= coalesce(re.first_after, re.paid_night)
                then greatest(re.paid_night, p.promised_night)
        end as kept_night,
        -- greatest() skips nulls: each night is null unless its own condition holds
        case
            when re.first_after is not null then greatest(re.first_after, p.promised_night)
        end as broken_night,
        case
            when re.first_after is null and bn.first_book_after is not null
                then greatest(bn.first_book_after, p.promised_night)
        end as missing_night
    from promised as p
    left join reached as re on re.promise_id = p.promise_id
    left join currencies as c on c.promise_id = p.promise_id
    left join (
        select p2.promise_id, b.snapshot_date as first_book_after
        from promised as p2
        asof inner join book_nights as b on b.snapshot_date >= p2.due_by
    ) as bn on bn.promise_id = p.promise_id
),

decided as (
    select
        c.*,
        case
            when c.promised_amount is null or c.promised_date is null or c.currencies > 1
                then 'unverifiable'
            when c.next_night is not null
                and c.next_night < coalesce(c.kept_night, c.broken_night, c.missing_night,
                                            date '9999-12-31')
                then 'superseded'
            when c.kept_night is not null then 'kept'
            when c.broken_night is not null then 'broken'
            when c.missing_night is not null then 'unverifiable'
            else 'open'
        end as status
    from candidates as c
),

resolved as (
    select
        d.*,
        case d.status
            when 'unverifiable' then coalesce(d.missing_night, d.promised_night)
            when 'superseded' then d.next_night
            when 'kept' then d.kept_night
            when 'broken' then d.broken_night
        end as resolved_night
    from decided as d
),

-- payments counted by the night the status was decided (the as-of night while open)
paid_at as (
    select r.promise_id, max(ru.paid_to_date) as paid_amount
    from resolved as r
    inner join running as ru on ru.promise_id = r.promise_id
    where ru.snapshot_date <= coalesce(r.resolved_night, cast($as_of as date))
    group by r.promise_id
),

tiers as (
{%- if has_tiers %}
    select snapshot_date, account_id, tier from collection_tiers
    where snapshot_date <= cast($as_of as date)
{%- else %}
    select cast(null as date) as snapshot_date, cast(null as varchar) as account_id,
        cast(null as varchar) as tier
    where false
{%- endif %}
),

final as (
    select
        r.promise_id,
        r.source,
        r.source_id,
        r.account_id,
        r.customer_id,
        case when r.currencies = 1 then r.scope_currency end as currency,
        r.made_at,
        r.promised_night,
        r.promised_amount,
        r.promised_date,
        r.due_by,
        r.agent_id,
        r.agency_id,
        t.tier as tier_at_promise,
        r.status,
        cast(coalesce(pa.paid_amount, 0) as decimal(18, 2)) as paid_amount,
        r.resolved_night,
        case when r.status = 'superseded' then r.next_promise end as superseded_by,
        cast($as_of as date) as as_of_night
    from resolved as r
    left join paid_at as pa on pa.promise_id = r.promise_id
    asof left join tiers as t
        on t.account_id = r.account_id and t.snapshot_date <= r.promised_night
)

select * from final
