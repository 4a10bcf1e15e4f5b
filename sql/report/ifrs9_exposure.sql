-- IFRS 9 exposure of tonight's book by stage, product and bucket: accounts, balance, EAD and the
-- PD-weighted EAD the ECL is built from (ECL = LGD x sum(PD x EAD)). Set-wise over accounts.
-- Stage: 3 from bucket rank $stage_3_rank (credit-impaired, PD = 1); 2 from rank $stage_2_rank, or
-- an M0 account the model flags early-warning (significant increase in credit risk); else 1.
-- EAD = balance + CCF x undrawn limit (open accounts only). PD: the roll chain's probability of
-- reaching WO from the bucket (table chain_pd: 12 months for stage 1, lifetime for stage 2);
-- {% if with_scores %}with account_scores, scaled by the account's predicted probability relative
-- to its bucket's mean (capped at 1), so the bucket keeps its chain PD on average{% else %}no
-- account_scores for the night: the chain PD of the bucket{% endif %}.
-- Grain: one row per (stage, product, bucket).
--   stage: 1, 2 or 3
--   product, bucket: the account's
--   accounts, balance: accounts and balance
--   undrawn: unused limit of open accounts
--   ead: exposure at default
--   pd_ead: sum over accounts of PD x EAD
--   pd_sum: sum of PD (mean PD = pd_sum / accounts)
with

book as (
    select
        snapshots.account_id,
        snapshots.product,
        snapshots.balance,
        case when snapshots.status = 'open'
            then greatest(snapshots.credit_limit - snapshots.balance, 0) else 0 end as undrawn,
        delinquency_bucket(snapshots.days_past_due, snapshots.status) as bucket
    from account_snapshots as snapshots
    where snapshots.snapshot_date = $night
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
            when bucket_rank(bucket) >= $stage_3_rank then 3
            when bucket_rank(bucket) >= $stage_2_rank or early_warning then 2
            else 1
        end as stage,
        avg(probability) over (partition by bucket) as bucket_mean_probability
    from scored
),

priced as (
    select
        staged.stage,
        staged.product,
        staged.bucket,
        staged.balance,
        staged.undrawn,
        staged.balance + $ccf * staged.undrawn as ead,
        case
            when staged.stage = 3 then 1.0
            when staged.probability is null or staged.bucket_mean_probability is null
                or staged.bucket_mean_probability = 0
                then chain_pd.pd
            else least(1.0, chain_pd.pd * staged.probability / staged.bucket_mean_probability)
        end as pd
    from staged
    left join chain_pd
        on chain_pd.bucket = staged.bucket
        and chain_pd.horizon = case when staged.stage = 1 then '12m' else 'lifetime' end
)

select
    stage,
    product,
    bucket,
    count(*) as accounts,
    sum(balance) as balance,
    sum(undrawn) as undrawn,
    sum(ead) as ead,
    sum(coalesce(pd, 0) * ead) as pd_ead,
    sum(coalesce(pd, 0)) as pd_sum
from priced
group by all
order by stage, product, bucket
