-- The rows a table holds (before and after a step: what the step added).
select count(*) from {{ table }}
