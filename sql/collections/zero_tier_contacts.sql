-- Before planning a night: tiered accounts start with no contact planned and only their
-- account-wide suppression (the first of suppression_reasons), so a rerun starts clean.
update collection_tiers
set
    contacts_planned = 0,
    channel_suppressions = null,
    suppression_reason = split_part(suppression_reasons, ',', 1)
where snapshot_date = $night and tier is not null
