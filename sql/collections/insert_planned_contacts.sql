-- Add tonight's planned contacts (temp table `tonight_candidates`, from plan_contacts.sql) to
-- contact_history: only keys not already there, so a rerun of the night adds nothing.
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
    'planned' as status,
    c.scheduled_at,
    c.letter_id,
    c.cap_count,
    c.cap_max,
    c.last_conversation,
    'plan' as source,
    cast($strategy_version as varchar) as strategy_version,
    false as batch_written,
    now() as planned_at,
    now() as updated_at
from tonight_candidates as c
where c.channel_suppression is null
    and c.idempotency_key not in (
        select idempotency_key from contact_history where snapshot_date = $night
    )
