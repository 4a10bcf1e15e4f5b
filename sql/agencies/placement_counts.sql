-- Counts for the asset's metadata (no personal data): per agency, placements made tonight
-- ($night), active after tonight, and ended tonight by status.
select
    agency_id,
    count(*) filter (where placed_night = cast($night as date)) as placed_tonight,
    count(*) filter (where status = 'active') as active,
    count(*) filter (where recalled_night = cast($night as date) and status = 'recalled')
        as recalled_tonight,
    count(*) filter (where recalled_night = cast($night as date) and status = 'rotated')
        as rotated_tonight,
    count(*) filter (where recalled_night = cast($night as date) and status = 'returned')
        as returned_tonight
from agency_placements
group by agency_id
order by agency_id
