-- Add tonight's planned contacts (temp table `tonight_candidates`, from plan_contacts.sql) to
-- contact_history: only keys not already there, so a rerun of the night adds nothing. A task
-- ranked beyond its queue's capacity (queue_full) is added too, as status overflow with
-- held_rule queue_full: it is recorded, never on the work list, and never counted as contacted.
insert into contact_history by name
select
    c.contact_id,
    c.idempotency_key,
    c.snapshot_date,
    c.account_id,
    c.customer_id,
    c.tier,
    c.treatment,
    c.tier_since,
    c.channel,
    c.template,
    c.template_version,
    c.locale,
    c.jurisdiction,
    c.queue,
    c.priority,
    case when c.channel_suppression = 'queue_full' then 'overflow' else 'planned' end as status,
    c.channel_suppression as held_rule,
    c.scheduled_at,
    c.letter_id,
    c.cap_count,
    c.cap_max,
    c.last_conversation,
    c.queue_rank,
    c.queue_capacity,
    c.expected_value,
    'plan' as source,
    cast($strategy_version as varchar) as strategy_version,
    false as batch_written,
    now() as planned_at,
    now() as updated_at
from tonight_candidates as c
where (c.channel_suppression is null or c.channel_suppression = 'queue_full')
    and c.idempotency_key not in (
        select idempotency_key from contact_history where snapshot_date = $night
    )
