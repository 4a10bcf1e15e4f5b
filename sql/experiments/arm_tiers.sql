-- One arm's tiers for nights [$start_date, $end_date]: collection_tiers.sql rendered with the
-- arm's strategy registered (its rule tables), over the whole book, kept as temp table arm_tiers.
create or replace temp table arm_tiers as
{{ query }}
