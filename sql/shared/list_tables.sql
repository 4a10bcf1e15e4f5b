-- Tables of the warehouse (the summary and the report's optional sections read only those that exist).
select table_name from information_schema.tables where table_schema = 'main'
