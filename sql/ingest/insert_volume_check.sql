-- Record one night's gate outcome.
insert into volume_checks values (
    $feed, $file_date, $gate, $outcome, $rows_loaded, $previous_night, $previous_rows,
    $change_pct, $quarantine_share, $detail, $run_id, $checked_at
)
