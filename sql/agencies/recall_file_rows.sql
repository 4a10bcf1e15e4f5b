-- The recall file rows of placements ended tonight ($night), per agency: the agency stops work
-- on these (recalled, rotated to another agency or returned) and says so by placement_id.
select
    agency_id,
    placement_id,
    account_id as account_reference,
    recalled_night as ended_date,
    status,
    recall_reason as reason
from agency_placements
where recalled_night = cast($night as date)
order by agency_id, placement_id
