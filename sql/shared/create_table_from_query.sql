-- Create a nightly table with the columns its query returns (no rows).
create table if not exists {{ table }} as
select * from (
{{ query }}
) limit 0
