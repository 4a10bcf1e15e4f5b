-- Every landed row that did not load, with the rule it broke; one row per (row, rule).
-- row_number is the 1-based data row of the file (header excluded); null for a whole-file rejection.
create table if not exists quarantine (
    feed varchar not null,
    snapshot_date date not null,
    source_file varchar not null,
    file_sha256 varchar not null,
    row_number bigint,
    column_name varchar,
    rule varchar not null,
    message varchar not null,
    raw_record varchar
)
