-- Rebuild nights [$start_date, $end_date] of a nightly table from its query (columns by name).
insert into {{ table }} by name
{{ query }}
