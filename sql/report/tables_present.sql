-- Tables of the warehouse (the report's optional sections read only the tables that exist).
select table_name from information_schema.tables where table_schema = 'main'
