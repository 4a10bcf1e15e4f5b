-- The strategy no longer places accounts (no agencies: section): every placement still active
-- is returned on $night, so the lender's own treatment resumes.
update agency_placements
set status = 'returned', recalled_night = cast($night as date),
    recall_reason = 'no_agencies_in_strategy'
where status = 'active' and placed_night < cast($night as date)
