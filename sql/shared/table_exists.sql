-- Whether a table or view exists in the warehouse (optional inputs such as account_scores).
select count(*) > 0 from information_schema.tables where table_name = $table_name
