-- The night's recall triggers: what ends a placement and keeps an account from being placed
-- (contact_events; contact_outcomes when that table exists: {{ 'with' if has_outcomes else 'without' }} it in this rendering).
-- One row per event: customer_id, account_id (null: every account of the customer), reason
-- (dispute, complaint, bankruptcy, deceased), landing_date (the night the file carried it).
-- Only the strategy's recall_on reasons ($recall_on) count.
create or replace temp table agency_triggers as
select customer_id, account_id, reason, landing_date
from (
    select
        e.customer_id,
        case when e.event_type in ('bankruptcy', 'deceased') then null else e.account_id end
            as account_id,
        case e.event_type when 'dispute_opened' then 'dispute' else e.event_type end as reason,
        e.landing_date
    from contact_events as e
    where e.landing_date <= cast($night as date)
        and e.event_type in ('dispute_opened', 'complaint', 'bankruptcy', 'deceased')
{%- if has_outcomes %}
    union all
    -- a contact's account and customer come from contact_history, not the feed
    select
        h.customer_id,
        h.account_id,
        case o.outcome when 'dispute_raised' then 'dispute' else 'complaint' end as reason,
        o.landing_date
    from contact_outcomes as o
    inner join contact_history as h on h.contact_id = o.contact_id
    where o.landing_date <= cast($night as date)
        and o.outcome in ('dispute_raised', 'complaint')
{%- endif %}
) as t
where list_contains($recall_on, reason)
