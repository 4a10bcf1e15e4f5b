-- The latest night agency_placements has replayed (a placement or an end on it); null when empty.
select greatest(max(placed_night), max(recalled_night)) as latest from agency_placements
