-- Record tonight's plan on collection_tiers: contacts planned, channel suppressions, and the
-- channel reason as the suppression when no contact of the treatment was planned.
update collection_tiers as t
set
    contacts_planned = s.planned,
    channel_suppressions = s.channel_suppressions,
    suppression_reason = coalesce(
        t.suppression_reason, case when s.planned = 0 then s.first_reason end
    )
from (
    select
        account_id,
        count(*) filter (where channel_suppression is null) as planned,
        string_agg(channel || '=' || channel_suppression, ',' order by contact_order)
            filter (where channel_suppression is not null) as channel_suppressions,
        arg_min(channel_suppression, contact_order)
            filter (where channel_suppression is not null) as first_reason
    from tonight_candidates
    group by account_id
) as s
where t.snapshot_date = $night and t.account_id = s.account_id
