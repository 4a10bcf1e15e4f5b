-- Tonight's ($night) new placements: open accounts of the placed buckets ($buckets) in a
-- jurisdiction with agencies (agency_shares), not placed now, not recalled or returned within
-- $replace_after_days nights, never recalled for bankruptcy or deceased, with no recall trigger
-- (agency_triggers) landed within $replace_after_days nights (bankruptcy, deceased: ever), no
-- do_not_contact on record, no promise to pay running tonight and no dispute open.
-- The agency: a uniform number from the md5 of "<seed>:<account_id>:<placements before>" falls
-- into one band of the jurisdiction's shares (agencies in name order); a rotation leaves out the
-- agency it rotates from, the others' shares scaled up to 1. Stable: the same account, seed and
-- history give the same agency on every rerun.
insert into agency_placements by name
with tonight as (
    select f.account_id, f.customer_id, f.currency, f.balance
    from account_features as f
    where f.snapshot_date = cast($night as date)
        and f.status <> 'closed'
        and list_contains($buckets, f.bucket)
),

countries as (
    select customer_id, arg_max(country, landing_date) as country
    from customers_history
    where landing_date <= cast($night as date)
    group by customer_id
),

located as (
    select
        t.*,
        case
            when c.country in (select jurisdiction from strategy_jurisdictions) then c.country
            else cast($default_jurisdiction as varchar)
        end as jurisdiction
    from tonight as t
    left join countries as c on c.customer_id = t.customer_id
),

history as (
    select
        account_id,
        count(*) as placements_before,
        count(*) filter (where status = 'active') as active,
        count(*) filter (
            where status in ('recalled', 'returned')
                and recalled_night > cast($night as date) - cast($replace_after_days as integer)
        ) as recent_ends,
        count(*) filter (where recall_reason in ('bankruptcy', 'deceased')) as final_ends,
        -- the latest placement, when it was rotated tonight or before: its agency is left out
        case when arg_max(status, placed_night) = 'rotated'
             then arg_max(agency_id, placed_night) end as rotated_from
    from agency_placements
    group by account_id
),

blocked as (
    select distinct l.account_id
    from located as l
    inner join agency_triggers as t
        on t.customer_id = l.customer_id
        and (t.account_id is null or t.account_id = l.account_id)
    where t.reason in ('bankruptcy', 'deceased')
        or t.landing_date > cast($night as date) - cast($replace_after_days as integer)
),

held as (
    -- never handed to an agency: a customer who asked for no contact, or an account with a
    -- promise to pay still running (contact_events until_date on or after tonight)
    select distinct l.account_id
    from located as l
    inner join contact_events as e
        on e.customer_id = l.customer_id
        and (e.account_id is null or e.account_id = l.account_id
             or e.event_type = 'do_not_contact')
    where e.landing_date <= cast($night as date)
        and (e.event_type = 'do_not_contact'
             or (e.event_type = 'promise_to_pay' and e.until_date >= cast($night as date)))
    union all
    -- a dispute still open: the account's latest dispute event within the open_dispute
    -- suppression's lookback ($dispute_lookback_days, null: any time) is an opening
    select l.account_id
    from located as l
    inner join contact_events as e
        on e.customer_id = l.customer_id
        and (e.account_id is null or e.account_id = l.account_id)
    where e.landing_date <= cast($night as date)
        and e.event_type in ('dispute_opened', 'dispute_closed')
        and ($dispute_lookback_days is null
             or e.landing_date > cast($night as date) - cast($dispute_lookback_days as integer))
    group by l.account_id
    having arg_max(e.event_type, (e.event_time, e.event_type = 'dispute_closed'))
        = 'dispute_opened'
),

eligible as (
    select
        l.*,
        coalesce(h.placements_before, 0) as placements_before,
        h.rotated_from
    from located as l
    left join history as h on h.account_id = l.account_id
    where coalesce(h.active, 0) = 0
        and coalesce(h.recent_ends, 0) = 0
        and coalesce(h.final_ends, 0) = 0
        and l.account_id not in (select account_id from blocked)
        and l.account_id not in (select account_id from held)
),

drawn as (
    select
        e.*,
        cast(('0x' || substr(md5(cast($seed as varchar) || ':' || e.account_id || ':'
            || cast(e.placements_before as varchar)), 1, 12)) as ubigint)
            / 281474976710656.0 as draw
    from eligible as e
),

bands as (
    select
        d.account_id,
        s.agency_id,
        s.agency_order,
        sum(s.share) over (partition by d.account_id order by s.agency_order
                           rows between unbounded preceding and current row)
            / sum(s.share) over (partition by d.account_id) as band_high,
        d.draw
    from drawn as d
    inner join agency_shares as s on s.jurisdiction = d.jurisdiction
    where d.rotated_from is null or s.agency_id <> d.rotated_from
),

chosen as (
    select account_id, arg_min(agency_id, agency_order) as agency_id
    from bands
    where draw < band_high
    group by account_id
)

select
    'PL' || strftime(cast($night as date), '%Y%m%d') || '-' || d.account_id as placement_id,
    d.account_id,
    d.customer_id,
    c.agency_id,
    d.jurisdiction,
    d.currency,
    cast($night as date) as placed_night,
    d.balance as balance_at_placement,
    cast($night as date) + cast($rotation_days as integer) as rotation_due,
    cast(null as date) as recalled_night,
    cast(null as varchar) as recall_reason,
    'active' as status,
    cast($strategy_version as varchar) as strategy_version
from drawn as d
inner join chosen as c on c.account_id = d.account_id
