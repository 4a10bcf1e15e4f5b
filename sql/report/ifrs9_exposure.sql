-- IFRS 9 exposure and expected credit loss of tonight's book, per scenario, currency, stage,
-- product and bucket. Set-wise over accounts (pipelines/lib/report/ifrs9.py registers the inputs:
-- chain_marginal, ecl_products, ecl_scenarios).
-- A closed account with nothing owed is derecognised: not staged, not counted.
-- Stage: `written_off` for a written-off account (bucket WO: not a stage, ECL per
-- $written_off_in_ecl); 3 from bucket rank $stage_3_rank (credit-impaired); 2 from rank
-- $stage_2_rank, or an M0 account the model flags early-warning; else 1.
-- EAD = balance + CCF x undrawn limit (open accounts only); a written-off account's EAD is its
-- balance when written-off ECL is measured, else 0 (derecognised).
-- PD: the roll chain's monthly marginal write-off probabilities (chain_marginal) summed over
-- months 1..$pd_12m_months in stage 1 and 1..$lifetime_months in stage 2, each month discounted by
-- DF(month) = (1 + EIR / 12)^-month; stage 3 and written off: PD = 1, stage 3 discounted over
-- $recovery_months months, written off not discounted. The scenario's PD multiplier scales the
-- curve, capped so the cumulative PD stays <= 1; its LGD multiplier scales LGD, capped at 1.
-- {% if with_scores %}with account_scores, the curve is also scaled by the account's predicted
-- probability relative to its bucket's mean{% else %}no account_scores for the night: the
-- bucket's curve{% endif %}. EIR: {% if with_eir %}the landed effective_interest_rate, else {% endif %}the
-- configured rate of the product (ecl_products).
-- Grain: one row per (scenario, currency, stage, product, bucket, eir_source).
--   scenario: the scenario's name (ecl_scenarios)
--   currency: the account's currency (amounts are in it)
--   stage: 1, 2, 3 or written_off
--   product, bucket: the account's
--   eir_source: landed (the snapshot's effective_interest_rate) or configured (by product)
--   accounts, balance: accounts and balance
--   undrawn: unused limit of open accounts
--   ead: exposure at default
--   pd_ead: sum over accounts of the (undiscounted) PD x EAD
--   ecl_undiscounted: sum of LGD x PD x EAD
--   ecl: sum of LGD x EAD x sum over months of marginal PD x DF (the discounted ECL)
with

book as (
    select
        snapshots.account_id,
        snapshots.product,
        snapshots.currency,
        snapshots.balance,
        case when snapshots.status = 'open'
            then greatest(snapshots.credit_limit - snapshots.balance, 0) else 0 end as undrawn,
        delinquency_bucket(snapshots.days_past_due, snapshots.status) as bucket,
{%- if with_eir %}
        cast(snapshots.effective_interest_rate as double) as landed_eir
{%- else %}
        cast(null as double) as landed_eir
{%- endif %}
    from account_snapshots as snapshots
    where snapshots.snapshot_date = $night
        and not (snapshots.status = 'closed' and snapshots.balance = 0)
),

scored as (
    select
        book.*,
{%- if with_scores %}
        scores.probability,
        coalesce(scores.early_warning, false) as early_warning
    from book
    left join account_scores as scores
        on scores.snapshot_date = $night and scores.account_id = book.account_id
{%- else %}
        cast(null as double) as probability,
        false as early_warning
    from book
{%- endif %}
),

staged as (
    select
        scored.*,
        case
            when bucket = 'WO' then 'written_off'
            when bucket_rank(bucket) >= $stage_3_rank then '3'
            when bucket_rank(bucket) >= $stage_2_rank or early_warning then '2'
            else '1'
        end as stage,
        avg(probability) over (partition by bucket) as bucket_mean_probability
    from scored
),

fallback as (
    select lgd, eir from ecl_products where product = 'default'
),

termed as (
    select
        staged.*,
        coalesce(products.lgd, fallback.lgd) as lgd,
        coalesce(staged.landed_eir, products.eir, fallback.eir) as eir,
        case when staged.landed_eir is null then 'configured' else 'landed' end as eir_source,
        case staged.stage
            when '1' then $pd_12m_months
            when '2' then $lifetime_months
            else 0
        end as horizon,
        case
            when staged.stage <> 'written_off' then staged.balance + $ccf * staged.undrawn
            when $written_off_in_ecl then staged.balance
            else 0
        end as ead,
        case
            when staged.probability is null or staged.bucket_mean_probability is null
                or staged.bucket_mean_probability = 0 then 1.0
            else staged.probability / staged.bucket_mean_probability
        end as score_scale
    from staged
    cross join fallback
    left join ecl_products as products on products.product = staged.product
),

curves as (
    select
        terms.bucket,
        terms.horizon,
        terms.eir,
        coalesce(sum(chain_marginal.marginal), 0) as chain_pd,
        coalesce(sum(chain_marginal.marginal
            * power(1 + terms.eir / 12, -chain_marginal.month)), 0) as discounted_chain_pd
    from (select distinct bucket, horizon, eir from termed where horizon > 0) as terms
    left join chain_marginal
        on chain_marginal.bucket = terms.bucket and chain_marginal.month <= terms.horizon
    group by all
),

priced as (
    select
        termed.*,
        ecl_scenarios.scenario,
        least(1.0, termed.lgd * ecl_scenarios.lgd_multiplier) as scenario_lgd,
        case
            when termed.stage in ('3', 'written_off') then 1.0
            when curves.chain_pd > 0
                then least(termed.score_scale * ecl_scenarios.pd_multiplier,
                           1.0 / curves.chain_pd)
            else 0.0
        end as curve_scale,
        case
            when termed.stage = 'written_off' then 1.0
            when termed.stage = '3' then 1.0
            else curves.chain_pd
        end as chain_pd,
        case
            when termed.stage = 'written_off' then 1.0
            when termed.stage = '3' then power(1 + termed.eir / 12, -$recovery_months)
            else curves.discounted_chain_pd
        end as discounted_chain_pd
    from termed
    cross join ecl_scenarios
    left join curves
        on curves.bucket = termed.bucket and curves.horizon = termed.horizon
        and curves.eir = termed.eir
)

select
    scenario,
    currency,
    stage,
    product,
    bucket,
    eir_source,
    count(*) as accounts,
    sum(balance) as balance,
    sum(undrawn) as undrawn,
    sum(ead) as ead,
    sum(coalesce(curve_scale * chain_pd, 0) * ead) as pd_ead,
    sum(scenario_lgd * coalesce(curve_scale * chain_pd, 0) * ead) as ecl_undiscounted,
    sum(scenario_lgd * coalesce(curve_scale * discounted_chain_pd, 0) * ead) as ecl
from priced
group by all
order by scenario, currency, stage, product, bucket, eir_source
