-- One row per feed-night and gate: the outcome of the night's volume gate as last judged.
-- gate: book_volume (loaded accounts against the previous night) | quarantine_share.
-- outcome: passed | failed | accepted (an operator accepted the change, see volume_acceptances).
create table if not exists volume_checks (
    feed varchar not null,
    snapshot_date date not null,
    gate varchar not null,
    outcome varchar not null,
    rows_loaded bigint not null,
    previous_night date,
    previous_rows bigint,
    change_pct double,
    quarantine_share double,
    detail varchar not null,
    run_id varchar not null,
    checked_at timestamptz not null
)
