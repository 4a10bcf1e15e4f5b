-- `overdue summary`: contact outcomes loaded, by source and outcome, and the contacts by status.
select 'outcome' as kind, coalesce(source, 'gateway') || ' ' || outcome as name, count(*) as n
from contact_outcomes
group by all
union all
select 'status' as kind, status as name, count(*) as n
from contact_history
where source = 'plan'
group by all
order by kind, name
