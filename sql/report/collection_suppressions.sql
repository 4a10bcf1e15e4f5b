-- Tonight's suppressed accounts (no contact) by reason.
-- Grain: one row per suppression_reason.
select suppression_reason, count(*) as accounts
from collection_tiers
where snapshot_date = $night and suppression_reason is not null
group by suppression_reason
order by accounts desc, suppression_reason
