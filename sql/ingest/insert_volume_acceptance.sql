-- Record an operator's acceptance of one night's volume change.
insert into volume_acceptances values (
    $feed, $file_date, $gate, $accepted_by, $reason, $accepted_at, $run_id, $rows_loaded,
    $previous_night, $previous_rows, $detail
)
