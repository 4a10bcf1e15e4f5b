-- The data dictionary, rebuilt whole from the SQL headers (registered as `dictionary_rows`).
create or replace table data_dictionary as
select table_name, column_name, definition from dictionary_rows
