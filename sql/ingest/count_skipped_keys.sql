-- Clean staged rows whose {{ skip_key }} another night of {{ table }} already loaded: skipped,
-- not loaded again (a gateway resending its receipts), counted in ingest_log.rows_skipped.
select count(*)
from staged
where __row_number not in (select __row_number from violations)
    and {{ skip_key }} in (
        select {{ skip_key }} from {{ table }} where {{ partition_column }} <> $file_date)
