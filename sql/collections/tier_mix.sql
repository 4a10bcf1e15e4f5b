-- The night's tiers for the UI. Grain: one row per tier (null: no tier).
--   tier, accounts, suppressed (accounts with a suppression reason), contacts_planned,
--   high_risk (accounts high risk by the strategy's per-bucket rule), early_warnings,
--   balance: the tier's balance per currency, e.g. "CNY 1234567.89, USD 34567.00" (amounts of
--   two currencies are never added)
with

per_currency as (
    select
        tier,
        currency,
        count(*) as accounts,
        sum(balance) as balance,
        count(suppression_reason) as suppressed,
        sum(contacts_planned) as contacts_planned,
        count(*) filter (where high_risk) as high_risk,
        count(*) filter (where early_warning) as early_warnings
    from collection_tiers
    where snapshot_date = $night
    group by tier, currency
)

select
    tier,
    cast(sum(accounts) as bigint) as accounts,
    string_agg(coalesce(currency, '?') || ' ' || cast(balance as varchar), ', '
               order by currency) as balance,
    cast(sum(suppressed) as bigint) as suppressed,
    cast(sum(contacts_planned) as bigint) as contacts_planned,
    cast(sum(high_risk) as bigint) as high_risk,
    cast(sum(early_warnings) as bigint) as early_warnings
from per_currency
group by tier
order by tier nulls first
