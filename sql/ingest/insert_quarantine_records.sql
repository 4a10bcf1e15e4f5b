-- Quarantine rows the engine found outside the contract rules (unparseable records, whole files).
insert into quarantine
select
    $feed as feed,
    $file_date as snapshot_date,
    $source_file as source_file,
    $sha256 as file_sha256,
    row_number,
    column_name,
    rule,
    message,
    raw_record
from records
