-- The night $night's work-list tasks of the plan (phone and review contacts planned, held or
-- overflowed), with their queue rank, for the work list's order and the overflow file: what
-- tonight's staff cannot reach. Counts and amounts only, no personal data.
-- Grain: one row per contact_id.
-- Columns:
--   contact_id, jurisdiction, queue, status, queue_rank, queue_capacity, expected_value,
--   account_id, customer_id, tier, treatment, channel, priority: from contact_history
--   (expected_value rounded to cents)
--   (queue_rank: 1 first in the (jurisdiction, queue) by expected value; status overflow: ranked
--   beyond queue_capacity, held_rule queue_full)
--   currency, bucket, days_past_due, past_due_amount, probability, risk_grade: the account
--   on collection_tiers that night
select
    h.contact_id,
    h.jurisdiction,
    h.queue,
    h.status,
    h.queue_rank,
    h.queue_capacity,
    round(h.expected_value, 2) as expected_value,
    h.account_id,
    h.customer_id,
    h.tier,
    h.treatment,
    h.channel,
    h.priority,
    t.currency,
    t.bucket,
    t.days_past_due,
    t.past_due_amount,
    t.probability,
    t.risk_grade
from contact_history as h
left join collection_tiers as t
    on t.snapshot_date = h.snapshot_date and t.account_id = h.account_id
where h.snapshot_date = $night
    and h.source = 'plan'
    and h.channel in ('phone', 'review')
    and h.status in ('planned', 'held', 'overflow')
order by h.queue, h.jurisdiction, h.queue_rank nulls last, h.account_id
