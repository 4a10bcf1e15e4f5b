-- One row per accepted volume change: who accepted which night's figures, why, when, in which run.
-- Append-only: a later acceptance of the same night is a new row, the earlier one stays.
create table if not exists volume_acceptances (
    feed varchar not null,
    snapshot_date date not null,
    gate varchar not null,
    accepted_by varchar not null,
    reason varchar not null,
    accepted_at timestamptz not null,
    run_id varchar not null,
    rows_loaded bigint not null,
    previous_night date,
    previous_rows bigint,
    detail varchar not null
)
