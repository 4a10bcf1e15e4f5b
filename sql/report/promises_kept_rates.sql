-- Kept rates of the promises decided in the 90 nights ending $night (section 9, promises), by
-- the tier at promise, the collector (agent_id: a staff id) and the outside agency. Kept rate =
-- kept / (kept + broken): superseded and unverifiable promises are counted beside it, not in it.
-- Columns: dimension (tier, agent, agency), value ('' when none recorded), kept, broken,
--   superseded, unverifiable, kept_rate
with

decided as (
    select *
    from promises
    where resolved_night between cast($night as date) - 89 and cast($night as date)
),

by_dimension as (
    select 'tier' as dimension, coalesce(tier_at_promise, '') as value, status from decided
    union all
    select 'agent' as dimension, agent_id as value, status from decided where agent_id is not null
    union all
    select 'agency' as dimension, agency_id as value, status from decided
    where agency_id is not null
)

select
    dimension,
    value,
    count(*) filter (where status = 'kept') as kept,
    count(*) filter (where status = 'broken') as broken,
    count(*) filter (where status = 'superseded') as superseded,
    count(*) filter (where status = 'unverifiable') as unverifiable,
    count(*) filter (where status = 'kept')
        / nullif(count(*) filter (where status in ('kept', 'broken')), 0) as kept_rate
from by_dimension
group by dimension, value
order by case dimension when 'tier' then 1 when 'agent' then 2 else 3 end, value
