-- Fill nights of a nightly table from its query, matching columns by name.
insert into {{ table }} by name
{{ query }}
