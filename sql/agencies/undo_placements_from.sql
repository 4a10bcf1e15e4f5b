-- A rerun from $start_date: placements made on or after it go (the nights replay them).
delete from agency_placements where placed_night >= cast($start_date as date)
