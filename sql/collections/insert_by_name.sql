-- Fill nights [$start_date, $end_date] of a collections table from its query.
insert into {{ table }} by name
{{ query }}
