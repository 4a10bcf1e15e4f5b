-- Merge the calls of the contact_events feed landed on nights [$start_date, $end_date] into
-- contact_history (source events), once per event_id: the call caps are counted from them.
-- A connected call is `delivered`, an unanswered attempt `failed`.
insert into contact_history by name
select
    e.event_id as contact_id,
    'event:' || e.event_id as idempotency_key,
    e.landing_date as snapshot_date,
    e.account_id,
    e.customer_id,
    'phone' as channel,
    case e.event_type when 'call_connected' then 'delivered' else 'failed' end as status,
    e.event_time as scheduled_at,
    'events' as source,
    e.event_type,
    false as batch_written,
    now() as planned_at,
    now() as updated_at
from contact_events as e
where e.landing_date between $start_date and $end_date
    and e.event_type in ('call_attempt', 'call_connected')
    and not exists (
        select 1 from contact_history as h
        where h.idempotency_key = 'event:' || e.event_id
    )
