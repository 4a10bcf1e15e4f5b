-- Rebuild nights [$start_date, $end_date] of a nightly table from its query.
insert into {{ table }}
{{ query }}
