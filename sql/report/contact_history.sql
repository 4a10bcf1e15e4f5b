-- Tonight's contacts by channel and status (planned, held, sent, delivered, failed) and, for held
-- contacts, the rule that held them.
-- Grain: one row per (channel, status, held_rule).
select channel, status, coalesce(held_rule, '') as held_rule, count(*) as contacts
from contact_history
where snapshot_date = $night
group by all
order by channel, status, held_rule
