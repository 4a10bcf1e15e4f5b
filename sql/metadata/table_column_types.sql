-- The columns of one warehouse table with their DuckDB types, in table order, for the asset's
-- column schema in the UI.
-- Grain: one row per column of table $table_name (schema main).
--   table_catalog: the database (the warehouse file's name without .duckdb)
--   column_name: the column
--   data_type: its DuckDB type
select table_catalog, column_name, data_type
from information_schema.columns
where table_name = $table_name and table_schema = 'main'
order by ordinal_position
