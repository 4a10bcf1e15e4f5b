-- Report 9, agencies: placements ended by the night ($night), by how (recalled, rotated,
-- returned) and why.
select status, recall_reason, count(*) as placements
from agency_placements
where recalled_night <= cast($night as date)
group by all
order by status, recall_reason
