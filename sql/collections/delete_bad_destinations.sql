-- Before the outcomes of nights [$start_date, $end_date] are read again: what they marked.
delete from bad_destinations where noted_on between $start_date and $end_date
