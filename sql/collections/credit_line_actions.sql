-- Credit-line actions against over-extension (过度授信, issues 5 and 17) for nights in
-- [$start_date, $end_date], from collection_tiers (its high_risk is the strategy's per-bucket
-- rule; early_warning from account_scores). Open accounts only: frozen, charged-off and closed
-- accounts are left out. The first rule that applies decides (the strategy's credit_line):
--   1. bucket in $freeze_buckets: freeze (delinquent_freeze_bucket)
--   2. $over_limit = 'freeze' and balance > credit_limit: freeze (over_limit), whatever the risk
--   3. bucket in $freeze_high_risk_buckets and high risk: freeze (delinquent_high_risk)
--   4. bucket in $reduce_buckets, high risk or early warning, utilisation >= $min_utilisation:
--      reduce to balance x (1 + $headroom) rounded up to the currency's step
--      (`credit_line_rounding`, registered by pipelines/lib/collections/tiering.py; a currency
--      not listed: to the cent) (current_high_risk_high_utilisation); where that is not below
--      the limit, freeze (current_high_risk_fully_drawn)
-- A recommended limit is never above the current limit: an over-limit account keeps its limit.
-- Amounts are in the account's currency; nothing here adds amounts of two currencies.
-- Grain: one row per (snapshot_date, account_id) recommended for an action.
--
-- Columns:
--   snapshot_date: the night
--   account_id: the account
--   customer_id: the holder
--   bucket: delinquency bucket tonight
--   currency: ISO 4217 currency of the amounts
--   risk_grade: the account's risk grade tonight
--   probability: the model's probability tonight
--   utilisation: balance / credit_limit tonight
--   credit_limit: the current limit
--   balance: total outstanding tonight
--   action: freeze (no new drawing: the limit comes down to the balance, or stays where the balance is above it) or reduce (a lower limit, headroom above the balance)
--   recommended_limit: reduce: balance x (1 + headroom) rounded up to the currency's step; freeze: least(balance, credit_limit)
--   undrawn_limit: greatest(credit_limit - balance, 0): what the account could still draw before the action
--   exposure_removed: credit_limit - recommended_limit: the undrawn limit the action takes away (0 for an over-limit account: nothing was left to draw)
--   reason: delinquent_freeze_bucket, over_limit, delinquent_high_risk, current_high_risk_high_utilisation or current_high_risk_fully_drawn
--   reason_codes: codes for the decision (RISK_GRADE_<g> when high risk, EARLY_WARNING, OVER_LIMIT, UTILISATION_<pct>, BUCKET_<b>) then the model's top reasons (account_reason_codes features), comma-separated
--   strategy_version: the strategy that decided it
with

accounts as (
    select
        *,
        case
            when list_contains(cast($freeze_buckets as varchar[]), bucket)
                then 'delinquent_freeze_bucket'
            when $over_limit = 'freeze' and balance > credit_limit then 'over_limit'
            when list_contains(cast($freeze_high_risk_buckets as varchar[]), bucket) and high_risk
                then 'delinquent_high_risk'
            when list_contains(cast($reduce_buckets as varchar[]), bucket)
                and (high_risk or early_warning)
                and utilisation >= $min_utilisation
                then 'current_high_risk_high_utilisation'
        end as rule_reason
    from collection_tiers
    where snapshot_date between $start_date and $end_date
        and status = 'open'
),

decided as (
    select
        a.*,
        -- rounded to 6 places before the ceiling, so a float's noise never adds a step
        cast(ceil(round(cast(a.balance as double) * (1 + $headroom) / coalesce(r.round_to, 0.01),
                        6)) * coalesce(r.round_to, 0.01) as decimal(18, 2)) as reduced_limit
    from accounts as a
    left join credit_line_rounding as r on r.currency = a.currency
    where a.rule_reason is not null
),

actions as (
    select
        *,
        case
            when rule_reason <> 'current_high_risk_high_utilisation' then 'freeze'
            when reduced_limit < credit_limit then 'reduce'
            else 'freeze'
        end as action,
        case
            when rule_reason <> 'current_high_risk_high_utilisation' then rule_reason
            when reduced_limit < credit_limit then rule_reason
            else 'current_high_risk_fully_drawn'
        end as reason
    from decided
),

reasons as (
{%- if has_reasons %}
    select snapshot_date, account_id, string_agg(feature, ',' order by rank) as model_reasons
    from account_reason_codes
    where snapshot_date between $start_date and $end_date
    group by snapshot_date, account_id
{%- else %}
    select cast(null as date) as snapshot_date, cast(null as varchar) as account_id,
        cast(null as varchar) as model_reasons
    where false
{%- endif %}
),

limits as (
    select
        *,
        cast(case
            when action = 'reduce' then reduced_limit
            else least(balance, credit_limit)
        end as decimal(18, 2)) as recommended_limit
    from actions
),

final as (
    select
        c.snapshot_date,
        c.account_id,
        c.customer_id,
        c.bucket,
        c.currency,
        c.risk_grade,
        c.probability,
        c.utilisation,
        c.credit_limit,
        c.balance,
        c.action,
        c.recommended_limit,
        cast(greatest(c.credit_limit - c.balance, 0) as decimal(18, 2)) as undrawn_limit,
        cast(c.credit_limit - c.recommended_limit as decimal(18, 2)) as exposure_removed,
        c.reason,
        concat_ws(',',
            case when c.high_risk then 'RISK_GRADE_' || c.risk_grade end,
            case when c.early_warning then 'EARLY_WARNING' end,
            case when c.balance > c.credit_limit then 'OVER_LIMIT' end,
            'UTILISATION_' || cast(floor(c.utilisation * 100) as integer),
            'BUCKET_' || c.bucket,
            r.model_reasons
        ) as reason_codes,
        cast($strategy_version as varchar) as strategy_version
    from limits as c
    left join reasons as r on r.snapshot_date = c.snapshot_date and r.account_id = c.account_id
)

select * from final
