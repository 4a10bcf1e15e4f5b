-- Append the registered data frame {{ frame }} to {{ table }}, matching columns by name.
insert into {{ table }} by name select * from {{ frame }}
