-- A rerun of a night (say, after its landing file was corrected) brings the night's contacts
-- that are not sent yet in line with tonight's plan: one the plan no longer holds is cancelled
-- (an account corrected to current must not get a collection message); a task now beyond its
-- queue's capacity becomes overflow (held_rule queue_full), one now within it planned again;
-- every task takes tonight's queue rank and expected value. Rows already in line are left as
-- they are (updated_at unchanged). Sent, delivered and failed contacts are history: untouched.
update contact_history as h
set
    status = s.new_status,
    held_rule = case
        when s.new_status = 'overflow' then 'queue_full'
        when h.status = 'overflow' then null
        else h.held_rule
    end,
    queue_rank = coalesce(s.queue_rank, h.queue_rank),
    queue_capacity = coalesce(s.queue_capacity, h.queue_capacity),
    expected_value = coalesce(s.expected_value, h.expected_value),
    updated_at = now()
from (
    select
        k.idempotency_key,
        c.queue_rank,
        c.queue_capacity,
        c.expected_value,
        case
            when c.idempotency_key is null then 'cancelled'
            when c.channel_suppression = 'queue_full' then 'overflow'
            when k.status = 'overflow' then 'planned'
            else k.status
        end as new_status
    from contact_history as k
    left join tonight_candidates as c
        on c.idempotency_key = k.idempotency_key
        and (c.channel_suppression is null or c.channel_suppression = 'queue_full')
    where k.snapshot_date = $night
        and k.source = 'plan'
        and k.status in ('planned', 'held', 'overflow')
) as s
where h.idempotency_key = s.idempotency_key
    and h.snapshot_date = $night
    and (
        h.status <> s.new_status
        or h.queue_rank is distinct from coalesce(s.queue_rank, h.queue_rank)
        or h.queue_capacity is distinct from coalesce(s.queue_capacity, h.queue_capacity)
        or h.expected_value is distinct from coalesce(s.expected_value, h.expected_value)
    )
