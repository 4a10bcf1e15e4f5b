-- A rerun of a night (say, after its landing file was corrected) brings the night's contacts
-- that are not sent yet in line with tonight's plan: one the plan no longer holds is cancelled
-- (an account corrected to current must not get a collection message); a task now beyond its
-- queue's capacity becomes overflow (held_rule queue_full), one now within it planned again;
-- every task takes tonight's queue rank and expected value. Rows already in line are left as
-- they are (updated_at unchanged). Sent, delivered and failed contacts are history: untouched.
-- Released contacts (batch_written: in a released batch folder) are history too: their status
-- stays; one the plan no longer holds gets correction_note no_longer_due (cleared should the
-- plan hold it again). A correction (key <key>|r<N>) follows its original's key.
update contact_history as h
set
    status = s.new_status,
    held_rule = case
        when s.new_status = 'overflow' then 'queue_full'
        when h.status = 'overflow' then null
        else h.held_rule
    end,
    correction_note = s.new_note,
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
            when k.batch_written then k.status
            when c.idempotency_key is null then 'cancelled'
            when c.channel_suppression = 'queue_full' then 'overflow'
            when k.status = 'overflow' then 'planned'
            else k.status
        end as new_status,
        case
            when not k.batch_written then k.correction_note
            when c.idempotency_key is null then coalesce(k.correction_note, 'no_longer_due')
            when k.correction_note = 'no_longer_due' then null
            else k.correction_note
        end as new_note
    from contact_history as k
    left join tonight_candidates as c
        on c.idempotency_key = split_part(k.idempotency_key, '|', 1)
        and (c.channel_suppression is null or c.channel_suppression = 'queue_full')
    where k.snapshot_date = $night
        and k.source = 'plan'
        and (
            k.status in ('planned', 'held', 'overflow')
            or (k.batch_written and k.status in ('sent', 'delivered'))
        )
) as s
where h.idempotency_key = s.idempotency_key
    and h.snapshot_date = $night
    and (
        h.status <> s.new_status
        or h.correction_note is distinct from s.new_note
        or h.queue_rank is distinct from coalesce(s.queue_rank, h.queue_rank)
        or h.queue_capacity is distinct from coalesce(s.queue_capacity, h.queue_capacity)
        or h.expected_value is distinct from coalesce(s.expected_value, h.expected_value)
    )
