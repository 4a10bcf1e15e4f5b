-- Add a column a newer version of the table's query returns (older nights keep null in it).
alter table {{ table }} add column if not exists "{{ column }}" {{ column_type }}
