-- A rerun from $start_date: placements ended on or after it are active again (the nights replay
-- the recalls).
update agency_placements
set status = 'active', recalled_night = null, recall_reason = null
where recalled_night >= cast($start_date as date)
