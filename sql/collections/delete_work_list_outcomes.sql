-- Before the returned work lists of nights [$start_date, $end_date] are merged again: their
-- earlier merge (a corrected work list re-landed replaces what the first one said).
delete from contact_outcomes
where source = 'work_list' and landing_date between $start_date and $end_date
