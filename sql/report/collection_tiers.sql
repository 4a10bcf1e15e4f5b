-- Tonight's collection tiers and treatments, with suppressed accounts.
-- Grain: one row per (tier, treatment).
--   tier, treatment, accounts, suppressed: accounts with a suppression reason
--   strategy_version: the strategy that assigned them
select
    tier,
    treatment,
    count(*) as accounts,
    count(*) filter (where suppression_reason is not null) as suppressed,
    max(strategy_version) as strategy_version
from collection_tiers
where snapshot_date = $night
group by tier, treatment
order by tier, treatment
