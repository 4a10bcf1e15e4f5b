-- One row per landed file version: what was read, loaded and quarantined under which contract.
-- status: loaded | rejected | replaced (a later file for the same night superseded it).
-- rows_skipped: rows whose key was loaded on another night (contract skipKeysLoadedEarlier:
-- a resent receipt), neither loaded again nor quarantined; rows_read = loaded + quarantined + skipped.
create table if not exists ingest_log (
    feed varchar not null,
    snapshot_date date not null,
    source_file varchar not null,
    sha256 varchar not null,
    status varchar not null,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    contract_version varchar not null,
    message varchar,
    ingested_at timestamptz not null,
    rows_skipped bigint
)
