-- Fill nights [$start_date, $end_date] of collection_tiers (query: collection_tiers.sql).
insert into collection_tiers by name
{{ query }}
