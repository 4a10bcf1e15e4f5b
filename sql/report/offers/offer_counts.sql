-- Offers by type for the report night: made tonight, accepted and declined tonight, expired
-- tonight, and where every offer made by the night stands (running = accepted, active or kept).
select
    type,
    count(*) filter (where offered_night = cast($night as date)) as made,
    count(*) filter (where decided_night = cast($night as date)
                     and accepted_on is not null) as accepted,
    count(*) filter (where decided_night = cast($night as date)
                     and status = 'declined') as declined,
    count(*) filter (where closed_night = cast($night as date)
                     and status = 'expired') as expired,
    count(*) filter (where status in ('accepted', 'active', 'kept')) as running,
    count(*) filter (where status = 'kept') as kept,
    count(*) filter (where status = 'broken') as broken,
    count(*) filter (where status = 'completed') as completed,
    count(*) filter (where accepted_on is not null) as ever_accepted,
    count(*) filter (where decided_night is not null) as ever_decided
from offers
where offered_night <= cast($night as date)
group by type
order by type
