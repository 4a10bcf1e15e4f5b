-- A running offer is broken when an instalment is missed, completed when all are paid, kept
-- while every instalment paid so far was paid and none is missed, else active.
update offers as o
set
    status = s.status,
    closed_night = case when s.status in ('broken', 'completed') then cast($night as date) end
from (
    select
        offer_id,
        case
            when bool_or(status = 'missed') then 'broken'
            when bool_and(status = 'paid') then 'completed'
            when bool_or(status = 'paid') then 'kept'
            else 'active'
        end as status
    from offer_instalments
    group by offer_id
) as s
where o.offer_id = s.offer_id
    and o.status in ('accepted', 'active', 'kept')
    -- the acceptance night shows as accepted
    and not (o.decided_night = cast($night as date) and s.status = 'active')
