-- Before the returned work lists of nights [$start_date, $end_date] are merged again: their
-- earlier merge (a corrected work list re-landed replaces what the first one said). Only the
-- rows merged from a work_list_outcomes file (any of its versions in ingest_log): a gateway or
-- agency may send rows with source work_list through the contact_outcomes feed itself, and
-- those stay.
delete from contact_outcomes
where source = 'work_list'
    and landing_date between $start_date and $end_date
    and outcome_id like 'wl:%'
    and source_file in (
        select source_file from ingest_log where feed = 'work_list_outcomes'
    )
