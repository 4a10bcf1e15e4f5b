-- Report 9, agencies: placements made by the night ($night) per agency and their status as of
-- the night (a placement ended after the night was still active on it).
select
    agency_id,
    case when recalled_night is null or recalled_night > cast($night as date) then 'active'
         else status end as status,
    count(*) as placements
from agency_placements
where placed_night <= cast($night as date)
group by all
order by agency_id, status
