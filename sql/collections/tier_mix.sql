-- The night's tiers for the UI: accounts, balance and suppressed accounts per tier.
select
    tier,
    count(*) as accounts,
    sum(balance) as balance,
    count(suppression_reason) as suppressed,
    sum(contacts_planned) as contacts_planned
from collection_tiers
where snapshot_date = $night
group by tier
order by tier nulls first
