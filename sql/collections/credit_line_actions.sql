-- Credit-line actions against over-crediting (issue 5): current or early-delinquent accounts at
-- high risk and high utilisation, for nights in [$start_date, $end_date].
-- Grain: one row per (snapshot_date, account_id) recommended for an action.
-- High risk: risk_grade in the strategy's high_risk_grades, or early_warning (account_scores); an
-- unscored night recommends nothing (no model, no risk evidence). Buckets and the utilisation
-- floor: $buckets, $min_utilisation. Accounts already frozen or charged off are left out.
--
-- Columns:
--   snapshot_date: the night
--   account_id: the account
--   customer_id: the holder
--   bucket: delinquency bucket tonight
--   risk_grade: the account's risk grade tonight
--   probability: the model's probability tonight
--   utilisation: balance / credit_limit tonight
--   credit_limit: the current limit
--   balance: total outstanding tonight
--   action: freeze (delinquent: no new drawing) or reduce (current: lower the limit)
--   recommended_limit: reduce: max(balance, credit_limit x (1 - $reduce_by)) rounded up to 100; freeze: the balance
--   reason: why, in words: delinquent_high_risk_high_utilisation or current_high_risk_high_utilisation
--   reason_codes: codes for the decision (RISK_GRADE_<g>, EARLY_WARNING, UTILISATION_<pct>, BUCKET_<b>) then the model's top reasons (account_reason_codes features), comma-separated
--   strategy_version: the strategy that decided it
with

candidates as (
    select *
    from collection_tiers
    where snapshot_date between $start_date and $end_date
        and list_contains(cast($buckets as varchar[]), bucket)
        and status = 'open'
        and utilisation >= $min_utilisation
        and (high_risk or early_warning)
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

final as (
    select
        c.snapshot_date,
        c.account_id,
        c.customer_id,
        c.bucket,
        c.risk_grade,
        c.probability,
        c.utilisation,
        c.credit_limit,
        c.balance,
        case when c.bucket = 'M0' then 'reduce' else 'freeze' end as action,
        case
            when c.bucket = 'M0' then cast(greatest(
                c.balance, ceil(c.credit_limit * (1 - $reduce_by) / 100) * 100
            ) as decimal(18, 2))
            else c.balance
        end as recommended_limit,
        case when c.bucket = 'M0' then 'current_high_risk_high_utilisation'
            else 'delinquent_high_risk_high_utilisation' end as reason,
        concat_ws(',',
            case when c.high_risk then 'RISK_GRADE_' || c.risk_grade end,
            case when c.early_warning then 'EARLY_WARNING' end,
            'UTILISATION_' || cast(floor(c.utilisation * 100) as integer),
            'BUCKET_' || c.bucket,
            r.model_reasons
        ) as reason_codes,
        cast($strategy_version as varchar) as strategy_version
    from candidates as c
    left join reasons as r on r.snapshot_date = c.snapshot_date and r.account_id = c.account_id
)

select * from final
