-- Legal track per account in write-off review (collection_tiers tier T5), nights in
-- [$start_date, $end_date]. Thresholds per jurisdiction and currency come from `legal_rules`
-- (the strategy's agencies.legal, registered by pipelines/lib/collections/agencies.py) and the
-- time bar from `jurisdiction_rules`. Right-party contacts: contact_events call_connected{{ ' and contact_outcomes right_party_contact' if has_outcomes else '' }};
-- returned letters: {{ 'contact_outcomes returned' if has_outcomes else 'none (no contact_outcomes table in this rendering)' }}.
--
-- Columns:
--   snapshot_date: the night
--   account_id: the account in write-off review
--   customer_id: its holder
--   jurisdiction: the customer's jurisdiction (collection_tiers)
--   currency: ISO 4217 currency of the balance
--   bucket: delinquency bucket tonight (WO for write-off review)
--   balance: total outstanding tonight, in the account's currency
--   last_right_party_contact: the latest night a right-party contact landed, within the jurisdiction's contact_lookback_days; null when none
--   address_deliverable: the latest customer record landed by the night has a postal address and no letter to the customer came back returned since that record landed
--   contactable: a right-party contact within the lookback or a deliverable address
--   time_barred: no payment and delinquent for at least the jurisdiction's time_barred_after_days (no suit may be threatened or brought)
--   track: litigation | arbitration | payment_order candidate; null when none applies (see track_reason)
--   track_reason: why the track: litigation_min_balance (balance at least the litigation threshold), contactable / uncontactable (between the thresholds), or why none: below_min_balance, time_barred, no_rule (the jurisdiction has no legal rule in the account's currency)
--   strategy_version: the strategy's version + content hash that decided the row
with review as (
    select
        t.snapshot_date, t.account_id, t.customer_id, t.jurisdiction, t.currency, t.bucket,
        t.balance, t.days_past_due, s.last_payment_date
    from collection_tiers as t
    inner join account_snapshots as s
        on s.snapshot_date = t.snapshot_date and s.account_id = t.account_id
    where t.snapshot_date between cast($start_date as date) and cast($end_date as date)
        and s.snapshot_date between cast($start_date as date) and cast($end_date as date)
        and t.tier = 'T5'
),

right_party as (
    select customer_id, landing_date
    from contact_events
    where event_type = 'call_connected' and landing_date <= cast($end_date as date)
{%- if has_outcomes %}
    union all
    select h.customer_id, o.landing_date
    from contact_outcomes as o
    inner join contact_history as h on h.contact_id = o.contact_id
    where o.outcome = 'right_party_contact' and o.landing_date <= cast($end_date as date)
{%- endif %}
),

last_contact as (
    select r.snapshot_date, r.account_id, max(rp.landing_date) as last_right_party_contact
    from review as r
    inner join legal_rules as lr on lr.jurisdiction = r.jurisdiction and lr.currency = r.currency
    inner join right_party as rp
        on rp.customer_id = r.customer_id
        and rp.landing_date <= r.snapshot_date
        and rp.landing_date > r.snapshot_date - lr.contact_lookback_days
    group by r.snapshot_date, r.account_id
),

addresses as (
    select r.snapshot_date, r.account_id, c.postal_address, c.landing_date as address_landed
    from review as r
    asof left join customers_history as c
        on c.customer_id = r.customer_id and c.landing_date <= r.snapshot_date
),

returned as (
{%- if has_outcomes %}
    select distinct a.snapshot_date, a.account_id
    from addresses as a
    inner join review as r on r.snapshot_date = a.snapshot_date and r.account_id = a.account_id
    inner join contact_history as h on h.customer_id = r.customer_id and h.channel = 'letter'
    inner join contact_outcomes as o on o.contact_id = h.contact_id
    where o.outcome = 'returned'
        and o.landing_date >= a.address_landed
        and o.landing_date <= a.snapshot_date
{%- else %}
    select cast(null as date) as snapshot_date, cast(null as varchar) as account_id
    where false
{%- endif %}
),

judged as (
    select
        r.*,
        lc.last_right_party_contact,
        coalesce(trim(a.postal_address), '') <> '' and rt.account_id is null
            as address_deliverable,
        lr.min_balance,
        lr.litigation_min_balance,
        lr.contactable_track,
        lr.uncontactable_track,
        coalesce(
            jr.time_barred_after_days is not null
            and r.days_past_due >= jr.time_barred_after_days
            and (r.last_payment_date is null
                 or r.last_payment_date <= r.snapshot_date - jr.time_barred_after_days),
            false) as time_barred
    from review as r
    left join last_contact as lc
        on lc.snapshot_date = r.snapshot_date and lc.account_id = r.account_id
    left join addresses as a on a.snapshot_date = r.snapshot_date and a.account_id = r.account_id
    left join returned as rt on rt.snapshot_date = r.snapshot_date and rt.account_id = r.account_id
    left join legal_rules as lr on lr.jurisdiction = r.jurisdiction and lr.currency = r.currency
    left join jurisdiction_rules as jr on jr.jurisdiction = r.jurisdiction
),

decided as (
    select
        *,
        last_right_party_contact is not null or address_deliverable as contactable,
        case
            when min_balance is null then 'no_rule'
            when time_barred then 'time_barred'
            when balance < min_balance then 'below_min_balance'
            when balance >= litigation_min_balance then 'litigation_min_balance'
            when last_right_party_contact is not null or address_deliverable then 'contactable'
            else 'uncontactable'
        end as track_reason
    from judged
)

select
    snapshot_date,
    account_id,
    customer_id,
    jurisdiction,
    currency,
    bucket,
    balance,
    last_right_party_contact,
    address_deliverable,
    contactable,
    time_barred,
    case track_reason
        when 'litigation_min_balance' then 'litigation'
        when 'contactable' then contactable_track
        when 'uncontactable' then uncontactable_track
    end as track,
    track_reason,
    cast($strategy_version as varchar) as strategy_version
from decided
