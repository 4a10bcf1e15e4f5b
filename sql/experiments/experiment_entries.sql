-- Accounts entering treatment in strategy experiments, as known on night $night, with what
-- happened to each in the 30 days after (pipelines/lib/collections/experiment_results.py
-- aggregates them per arm). Grain: one row per (experiment_id, account_id) that had a tier on a
-- night of the experiment (collection_tiers.experiment_id set), up to $night.
-- Unit: the account's first night in a tier during the experiment (its entry); later nights and
-- re-entries of the same account are not new units, so an account counts once.
-- Outcome window: snapshots after the entry night up to entry + 30 days (and up to $night).
-- Outcomes from contact_outcomes are read only when that table exists
-- ({{ 'with' if has_outcomes else 'without' }} it in this rendering).
--
-- Columns:
--   experiment_id, arm: the experiment and the customer's arm
--   account_id, customer_id: the account and its holder on the entry night
--   currency: the account's currency (amounts are never added across currencies)
--   entry_night: the account's first night in a tier during the experiment
--   entry_tier, entry_bucket: its tier and delinquency bucket that night
--   matured: entry_night + 30 <= $night (the 30-day outcomes are final)
--   cured: delinquent on entry and current (0 days past due) or closed with nothing owed on a later snapshot in the window; null when current on entry
--   rolled_forward: a later snapshot in the window is in a worse bucket than the entry bucket
--   collected: payments (account_snapshots.payment_amount) on snapshots in the window
--   contacts: the plan's contacts for the account on nights entry_night .. entry_night + 29 that were not cancelled, held or overflowed
--   complaints: complaints after the entry night up to entry + 30: contact_events complaint (the account's, or its customer's with no account) and contact_outcomes complaint on the account's contacts
with

entries as (
    select
        experiment_id,
        account_id,
        arg_min(arm, snapshot_date) as arm,
        arg_min(customer_id, snapshot_date) as customer_id,
        arg_min(currency, snapshot_date) as currency,
        min(snapshot_date) as entry_night,
        arg_min(tier, snapshot_date) as entry_tier,
        arg_min(bucket, snapshot_date) as entry_bucket
    from collection_tiers
    where experiment_id is not null
        and tier is not null
        and snapshot_date <= cast($night as date)
    group by experiment_id, account_id
),

later as (
    select
        e.experiment_id,
        e.account_id,
        bool_or(s.days_past_due = 0 or (s.status = 'closed' and s.balance = 0)) as back_to_current,
        bool_or(bucket_rank(delinquency_bucket(s.days_past_due, s.status))
                > bucket_rank(e.entry_bucket)) as rolled_forward,
        sum(s.payment_amount) as collected
    from entries as e
    inner join account_snapshots as s
        on s.account_id = e.account_id
        and s.snapshot_date > e.entry_night
        and s.snapshot_date <= least(e.entry_night + 30, cast($night as date))
    group by e.experiment_id, e.account_id
),

contacts as (
    select e.experiment_id, e.account_id, count(*) as contacts
    from entries as e
    inner join contact_history as h
        on h.account_id = e.account_id
        and h.snapshot_date >= e.entry_night
        and h.snapshot_date < e.entry_night + 30
        and h.snapshot_date <= cast($night as date)
    where h.source = 'plan' and h.status not in ('cancelled', 'held', 'overflow')
    group by e.experiment_id, e.account_id
),

complaint_rows as (
    select e.experiment_id, e.account_id, ce.event_id as complaint
    from entries as e
    inner join contact_events as ce
        on ce.customer_id = e.customer_id
        and (ce.account_id is null or ce.account_id = e.account_id)
        and ce.landing_date > e.entry_night
        and ce.landing_date <= least(e.entry_night + 30, cast($night as date))
    where ce.event_type = 'complaint'
{%- if has_outcomes %}
    union all
    select e.experiment_id, e.account_id, o.outcome_id as complaint
    from entries as e
    inner join contact_history as h on h.account_id = e.account_id
    inner join contact_outcomes as o on o.contact_id = h.contact_id
    where o.outcome = 'complaint'
        and o.landing_date > e.entry_night
        and o.landing_date <= least(e.entry_night + 30, cast($night as date))
{%- endif %}
),

complaints as (
    select experiment_id, account_id, count(distinct complaint) as complaints
    from complaint_rows
    group by experiment_id, account_id
)

select
    e.experiment_id,
    e.arm,
    e.account_id,
    e.customer_id,
    e.currency,
    e.entry_night,
    e.entry_tier,
    e.entry_bucket,
    e.entry_night + 30 <= cast($night as date) as matured,
    case when e.entry_bucket <> 'M0' then coalesce(l.back_to_current, false) end as cured,
    coalesce(l.rolled_forward, false) as rolled_forward,
    coalesce(l.collected, 0) as collected,
    coalesce(c.contacts, 0) as contacts,
    coalesce(k.complaints, 0) as complaints
from entries as e
left join later as l on l.experiment_id = e.experiment_id and l.account_id = e.account_id
left join contacts as c on c.experiment_id = e.experiment_id and c.account_id = e.account_id
left join complaints as k on k.experiment_id = e.experiment_id and k.account_id = e.account_id
order by e.experiment_id, e.account_id
