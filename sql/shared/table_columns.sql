-- The columns a warehouse table has now.
select column_name from information_schema.columns where table_name = $table_name
