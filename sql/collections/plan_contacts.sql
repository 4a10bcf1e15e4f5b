-- Tonight's contact candidates (night $night): every contact of every tiered, unsuppressed
-- account's treatment, with the reason it is not planned (channel_suppression) or null.
-- Grain: one row per (account_id, contact_order) of collection_tiers rows of $night with a tier
-- and no account-wide suppression.
-- Inputs registered by pipelines/lib/collections/tiering.py: `treatment_contacts` (the strategy's
-- contacts per jurisdiction x preferred language, with template, locale and version, a task's
-- queue capacity and the phone cadence) and `suppression_rules`. Cadence is counted from
-- contact_history (planned, sent or delivered rows of the plan, not held, overflowed or
-- cancelled; another key than the candidate's own, so a rerun finds its own rows and plans
-- nothing twice). Caps are not applied here: cap_count and cap_max go with the
-- contact and the linter holds a contact over its cap (pipelines/lib/collections/linter.py).
-- Customer: the latest customers version landed by $night.
-- Queues (issue 17): the tasks (phone, review) that would be planned are ranked per
-- (jurisdiction, queue): first those the linter will not surely hold (a phone task at its call cap
-- or within days_after_conversation of a conversation, or with an unknown time zone, is held at
-- render), then expected_value descending (nulls last), days_past_due descending, account_id,
-- contact_order. Ranks above the queue's capacity get channel_suppression queue_full: recorded in
-- contact_history as status overflow (insert_planned_contacts.sql), never on the work list.
-- Expected value, in the account's currency (a queue's jurisdiction books one currency; amounts
-- of two currencies are not converted): for a delinquent account, cure_probability x
-- past_due_amount, where cure_probability = 1 - collection_tiers.probability (the model's
-- P(not rolling forward within a month): trained on nights when accounts like these got the same
-- treatment, so it is the chance of curing or holding when contacted as the strategy contacts
-- them), for an unscored account the latest 30-day cure rate observed after contact for the tier
-- and treatment (cure_rates, a night before $night); for a current account (nothing past due: an
-- early-warning watch task), the balance at risk the review acts on, probability x balance;
-- neither known: null.
-- Phone cadence (call_rest): a debtor rests tonight when the latest run of consecutive nights
-- with a call task (planned, sent or delivered) ended less than rest_nights nights before tonight
-- and has at least max_nights nights, or at least max_nights_without_contact nights from the
-- night of the debtor's latest connected call in the feed on (a right-party contact).
--
-- Columns:
--   snapshot_date, account_id, customer_id, tier, treatment, tier_since, jurisdiction: from collection_tiers
--   contact_order: the contact's position in the treatment
--   channel, template, template_version, locale, queue, priority: the contact
--   idempotency_key: sha256 of account|night|treatment|channel|template or queue|locale|template_version
--   contact_id: letter_id for messages, CT<yymmdd>-<10 hex> for tasks
--   letter_id: <yymmdd>-<10 hex of the key>, upper case, for messages; null for tasks
--   (a reference's 10 hex are 40 bits: at ~600k contacts a night two keys share them about once
--   in six nights. Every key of the night whose 10 hex another key of the night shares, planned
--   tonight or already in contact_history, gets 20 hex instead, whatever order they came in;
--   stored references never change.)
--   scheduled_at: night + 1 day at the jurisdiction's send time, in the customer's time zone; null when that zone is unknown
--   cap_count: messages: the debtor's contacts on the channel in the cap window before tonight + this contact's rank among tonight's (by priority, then account); phone: feed calls in the 6 nights up to tonight (the call day makes 7)
--   cap_max: messages: the jurisdiction's cap; phone: max_calls_per_7_days (null: no such cap)
--   last_conversation: the debtor's latest connected call in the feed, if any
--   expected_value: cure_probability x past_due_amount, or probability x balance for a current account (above); null when unknown
--   queue_rank: the task's rank in its (jurisdiction, queue) tonight (above); null for messages and suppressed tasks
--   queue_capacity: the queue's tasks a night in the jurisdiction (agents x tasks_per_agent); null: unlimited, or a message
--   channel_suppression: null when planned; else no_destination (no phone, e-mail or address for the channel), opt_out (the customer opted out of the channel), hardship (a call or review task within 30 nights of a hardship claim), bad_destination (the phone number, e-mail or address failed on this channel: bad_destinations), frequency_cap (the cadence: contacted on this channel for this treatment within every_days nights, or already once since the tier entry), call_rest (the phone cadence above), same_debtor_call (one call task per debtor and night: the debtor's highest-priority account keeps it), queue_full (ranked beyond the queue's capacity)
with

tiers as (
    select *
    from collection_tiers
    where snapshot_date = $night and tier is not null and suppression_reasons is null
),

customer_versions as (
    select
        h.customer_id,
        h.mobile_phone,
        h.email,
        h.postal_address,
        h.timezone,
        h.preferred_language,
        row_number() over (
            partition by h.customer_id order by h.landing_date desc, h.source_row desc
        ) as version_rank
    from customers_history as h
    where h.landing_date <= $night
        and h.customer_id in (select customer_id from tiers)
),

holders as (
    select * exclude (version_rank) from customer_versions where version_rank = 1
),

known_zones as (
    select name from pg_timezone_names()
),

candidates as (
    select
        t.snapshot_date,
        t.account_id,
        t.customer_id,
        t.tier,
        t.treatment,
        t.tier_since,
        t.jurisdiction,
        t.days_past_due,
        t.probability,
        t.past_due_amount,
        t.balance,
        c.contact_order,
        c.channel,
        c.template,
        c.template_version,
        c.locale,
        c.queue,
        c.priority,
        c.every_days,
        c.once_per_tier_entry,
        c.cap_max as message_cap_max,
        c.cap_window_days,
        c.queue_capacity,
        h.mobile_phone,
        h.email,
        h.postal_address,
        case
            when h.timezone in (select name from known_zones)
                then timezone(
                    h.timezone,
                    cast($night as date) + 1 + to_minutes(cast(c.send_minutes as bigint))
                )
        end as scheduled_at,
        sha256(concat_ws('|', t.account_id, cast($night as varchar), t.treatment, c.channel,
                         coalesce(c.template, c.queue), c.locale,
                         coalesce(c.template_version, '-'))) as idempotency_key
    from tiers as t
    inner join holders as h on h.customer_id = t.customer_id
    inner join treatment_contacts as c
        on c.jurisdiction = t.jurisdiction
        -- by treatment: a tier rule may name a treatment other than its tier's (e.g. a watch)
        and c.treatment = t.treatment
        -- an experiment's challenger or holdout account takes its arm's contacts (issue 19)
        and c.variant is not distinct from case
            when t.arm in ('challenger', 'holdout') then t.experiment_id || ':' || t.arm
        end
        and c.preferred_language = case
            when h.preferred_language in ('zh-CN', 'en-US') then h.preferred_language
            else (select default_locale from jurisdiction_rules as j
                  where j.jurisdiction = t.jurisdiction)
        end
),

-- ------------------------------------------------------------------ per-channel suppressions
opt_outs as (
    -- an opt-out lapses after the jurisdiction's opt_out_expires_after_days (null: never)
    select distinct e.customer_id, e.channel, t.jurisdiction
    from contact_events as e
    inner join suppression_rules as r on r.reason = 'opt_out'
    inner join (select distinct customer_id, jurisdiction from tiers) as t
        on t.customer_id = e.customer_id
    inner join jurisdiction_rules as jr on jr.jurisdiction = t.jurisdiction
    where e.event_type = 'opt_out'
        and e.landing_date <= $night
        and (r.lookback_days is null or e.landing_date > cast($night as date) - r.lookback_days)
        and (jr.opt_out_expires_after_days is null
             or e.landing_date > cast($night as date) - jr.opt_out_expires_after_days)
),

history as (
    select *
    from contact_history
    where snapshot_date <= $night
        and customer_id in (select customer_id from tiers)
),

cadence as (
    select distinct c.account_id, c.contact_order
    from candidates as c
    inner join history as h
        on h.account_id = c.account_id
        and h.channel = c.channel
        and h.treatment = c.treatment
        and h.idempotency_key <> c.idempotency_key
        and h.snapshot_date <= cast($night as date)
    where h.source = 'plan'
        and h.status in ('planned', 'sent', 'delivered', 'failed', 'attempted', 'answered')
        and (
            (c.once_per_tier_entry and h.snapshot_date >= c.tier_since)
            or (not c.once_per_tier_entry and h.snapshot_date > cast($night as date) - cast(c.every_days as integer))
        )
),

later_in_entry as (
    -- an old night rerun after later ones: a once-per-entry contact already made on a later night
    -- of the same tier entry (no row of another tier in between) is not made a second time
    select distinct c.account_id, c.contact_order
    from candidates as c
    inner join contact_history as h
        on h.account_id = c.account_id
        and h.channel = c.channel
        and h.treatment = c.treatment
        and h.snapshot_date > cast($night as date)
    where c.once_per_tier_entry
        and h.source = 'plan'
        and h.status in ('planned', 'sent', 'delivered', 'failed', 'attempted', 'answered')
        and not exists (
            select 1
            from collection_tiers as ct
            where ct.account_id = c.account_id
                and ct.snapshot_date > cast($night as date)
                and ct.snapshot_date < h.snapshot_date
                and ct.tier is distinct from c.tier
        )
),

earlier_messages as (
    select c.account_id, c.contact_order, count(h.contact_id) as earlier
    from candidates as c
    inner join history as h
        on h.customer_id = c.customer_id
        and h.channel = c.channel
        and h.snapshot_date < $night
        and h.snapshot_date > cast($night as date) - cast(c.cap_window_days as integer)
    where c.message_cap_max is not null
        and h.source = 'plan'
        and h.status in ('planned', 'sent', 'delivered', 'failed', 'attempted', 'answered')
    group by c.account_id, c.contact_order
),

calls as (
    select
        customer_id,
        count(*) filter (where snapshot_date > cast($night as date) - 6) as calls_6_nights,
        max(snapshot_date) filter (where event_type = 'call_connected') as last_conversation
    from history
    where source = 'events' and channel = 'phone'
    group by customer_id
),

phone_cadence as (
    select
        max(max_nights_without_contact) as max_nights_without_contact,
        max(max_nights) as max_nights,
        max(rest_nights) as rest_nights
    from treatment_contacts
    where channel = 'phone'
),

phone_nights as (
    select distinct h.customer_id, h.snapshot_date
    from history as h
    cross join phone_cadence as pc
    where h.source = 'plan'
        and h.channel = 'phone'
        and h.status in ('planned', 'sent', 'delivered', 'failed', 'attempted', 'answered')
        and h.snapshot_date < $night
        and h.snapshot_date >= cast($night as date)
        - cast(pc.max_nights + pc.rest_nights as integer)
),

last_right_party as (
    select customer_id, max(snapshot_date) as night
    from history
    where source = 'events' and event_type = 'call_connected'
    group by customer_id
),

call_runs as (
    -- consecutive nights share snapshot_date - their number
    select
        customer_id,
        snapshot_date,
        snapshot_date - cast(row_number() over (
            partition by customer_id order by snapshot_date
        ) as integer) as run_start
    from phone_nights
),

last_runs as (
    select
        c.customer_id,
        count(*) as nights,
        count(*) filter (where r.night is null or c.snapshot_date >= r.night)
            as nights_without_contact,
        max(c.snapshot_date) as last_night
    from call_runs as c
    left join last_right_party as r on r.customer_id = c.customer_id
    group by c.customer_id, c.run_start
    qualify row_number() over (
        partition by c.customer_id order by max(c.snapshot_date) desc
    ) = 1
),

resting as (
    select l.customer_id
    from last_runs as l
    cross join phone_cadence as pc
    where cast($night as date) - l.last_night - 1 < pc.rest_nights
        and (l.nights >= pc.max_nights
             or l.nights_without_contact >= pc.max_nights_without_contact)
),

{%- if has_outcomes %}
-- issue 19: a hardship claim in the contact_outcomes feed within its lookback (no calls or
-- review tasks), and destinations a receipt or a wrong-party call marked bad (bad_destinations)
hardship as (
    select distinct h.customer_id
    from contact_outcomes as o
    inner join contact_history as h on h.contact_id = o.contact_id
    inner join suppression_rules as r on r.reason = 'hardship'
    where o.outcome = 'hardship_claimed'
        and o.landing_date <= $night
        and (r.lookback_days is null or o.landing_date > cast($night as date) - r.lookback_days)
),

bad_destination_keys as (
    select distinct b.channel, b.destination_sha256
    from bad_destinations as b
    inner join suppression_rules as r on r.reason = 'bad_destination'
    where b.noted_on <= $night
        and (r.lookback_days is null or b.noted_on > cast($night as date) - r.lookback_days)
),

{% endif -%}
judged as (
    select
        c.*,
        case
            when c.channel in ('sms', 'phone') and c.mobile_phone is null then 'no_destination'
            when c.channel = 'email' and c.email is null then 'no_destination'
            when c.channel = 'letter' and c.postal_address is null then 'no_destination'
            when exists (
                select 1 from opt_outs as o
                where o.customer_id = c.customer_id
                    and o.jurisdiction = c.jurisdiction
                    and (o.channel = c.channel or (o.channel is null and c.channel <> 'review'))
            ) then 'opt_out'
            {%- if has_outcomes %}
            when c.channel in ('phone', 'review')
                and c.customer_id in (select customer_id from hardship) then 'hardship'
            when (c.channel, sha256(case c.channel
                    when 'email' then c.email when 'letter' then c.postal_address
                    else c.mobile_phone end))
                in (select (channel, destination_sha256) from bad_destination_keys)
                then 'bad_destination'
            {%- endif %}
            when cd.account_id is not null or le.account_id is not null then 'frequency_cap'
            when c.channel = 'phone' and c.customer_id in (select customer_id from resting)
                then 'call_rest'
        end as channel_suppression
    from candidates as c
    left join cadence as cd on cd.account_id = c.account_id and cd.contact_order = c.contact_order
    left join later_in_entry as le
        on le.account_id = c.account_id and le.contact_order = c.contact_order
),

ranked as (
    select
        j.*,
        row_number() over (
            partition by j.customer_id, j.channel, j.channel_suppression is null
            order by j.priority nulls last, j.days_past_due desc, j.account_id, j.contact_order
        ) as rank_tonight
    from judged as j
),

final as (
    select
        r.snapshot_date,
        r.account_id,
        r.customer_id,
        r.tier,
        r.treatment,
        r.tier_since,
        r.jurisdiction,
        r.contact_order,
        r.channel,
        r.template,
        r.template_version,
        r.locale,
        r.queue,
        r.priority,
        r.days_past_due,
        r.probability,
        r.past_due_amount,
        r.balance,
        r.queue_capacity,
        r.idempotency_key,
        case
            when r.channel in ('phone', 'review')
                then 'CT' || strftime(cast($night as date), '%y%m%d') || '-'
                    || upper(left(r.idempotency_key, 10))
            else strftime(cast($night as date), '%y%m%d') || '-' || upper(left(r.idempotency_key, 10))
        end as contact_id,
        case
            when r.channel not in ('phone', 'review')
                then strftime(cast($night as date), '%y%m%d') || '-' || upper(left(r.idempotency_key, 10))
        end as letter_id,
        r.scheduled_at,
        case
            when r.channel = 'phone' then coalesce(ca.calls_6_nights, 0)
            when r.message_cap_max is not null
                then coalesce(em.earlier, 0) + r.rank_tonight
        end as cap_count,
        case
            when r.channel = 'phone' then jr.max_calls_per_7_days
            else r.message_cap_max
        end as cap_max,
        ca.last_conversation,
        jr.days_after_conversation,
        case
            when r.channel_suppression is null and r.channel = 'phone' and r.rank_tonight > 1
                then 'same_debtor_call'
            else r.channel_suppression
        end as channel_suppression
    from ranked as r
    left join earlier_messages as em
        on em.account_id = r.account_id and em.contact_order = r.contact_order
    left join calls as ca on ca.customer_id = r.customer_id
    left join jurisdiction_rules as jr on jr.jurisdiction = r.jurisdiction
),

-- ------------------------------------------------------------------ queues
observed_cure_rates as (
    select tier, treatment, arg_max(cure_rate_30d, snapshot_date) as cure_rate_30d
    from cure_rates
    where snapshot_date < $night and cure_rate_30d is not null
    group by tier, treatment
),

valued as (
    select
        f.*,
        case
            when f.past_due_amount > 0
                then coalesce(1 - f.probability, o.cure_rate_30d) * f.past_due_amount
            else f.probability * f.balance
        end as expected_value,
        f.channel = 'phone' and (
            f.scheduled_at is null
            or f.cap_count >= f.cap_max
            or f.snapshot_date - f.last_conversation < f.days_after_conversation
        ) as surely_held
    from final as f
    left join observed_cure_rates as o on o.tier = f.tier and o.treatment = f.treatment
),

queue_ranks as (
    select
        account_id,
        contact_order,
        row_number() over (
            partition by jurisdiction, queue
            order by coalesce(surely_held, false), expected_value desc nulls last,
                days_past_due desc, account_id, contact_order
        ) as queue_rank
    from valued
    where channel in ('phone', 'review') and channel_suppression is null
),

queued as (
    select
        v.* exclude (
            probability, past_due_amount, balance, days_after_conversation, surely_held
        )
        replace (
            case
                when q.queue_rank > v.queue_capacity then 'queue_full'
                else v.channel_suppression
            end as channel_suppression
        ),
        q.queue_rank
    from valued as v
    left join queue_ranks as q
        on q.account_id = v.account_id and q.contact_order = v.contact_order
),

short_references as (
    select upper(left(idempotency_key, 10)) as short_hash, idempotency_key
    from queued
    where channel_suppression is null or channel_suppression = 'queue_full'
    union
    select split_part(contact_id, '-', 2), idempotency_key
    from contact_history
    where snapshot_date = $night
        and source = 'plan'
        and length(split_part(contact_id, '-', 2)) = 10
),

shared_short_hashes as (
    select short_hash
    from short_references
    group by short_hash
    having count(distinct idempotency_key) > 1
)

select
    f.* replace (
        case
            when s.short_hash is null then f.contact_id
            else split_part(f.contact_id, '-', 1) || '-' || upper(left(f.idempotency_key, 20))
        end as contact_id,
        case
            when s.short_hash is null or f.letter_id is null then f.letter_id
            else split_part(f.letter_id, '-', 1) || '-' || upper(left(f.idempotency_key, 20))
        end as letter_id
    )
from queued as f
left join shared_short_hashes as s on s.short_hash = upper(left(f.idempotency_key, 10))
