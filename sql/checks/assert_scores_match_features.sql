-- What: accounts of a scored night without exactly one score row, score rows for accounts without
--       features, a missing probability inside the model's population (or one outside it), a
--       probability outside [0, 1], a grade missing for a probability, or early_warning /
--       needs_reasons not following from bucket, days past due and probability.
-- Why: tiers and letters read account_scores; an account silently unscored would drop out of
--       early intervention.
-- Threshold: any row fails (ERROR). Nights with no score rows at all (no champion yet) are not judged.
with

scored_nights as (
    select distinct snapshot_date, model_version
    from account_scores
    where snapshot_date between $start_date and $end_date
),

features as (
    select f.snapshot_date, f.account_id, f.bucket, f.days_past_due
    from account_features as f
    join scored_nights using (snapshot_date)
),

scores as (
    select snapshot_date, account_id, any_value(probability) as probability,
        any_value(risk_grade) as risk_grade, bool_or(early_warning) as early_warning,
        bool_or(needs_reasons) as needs_reasons, count(*) as score_rows
    from account_scores
    where snapshot_date between $start_date and $end_date
    group by all
),

final as (
    select
        coalesce(features.snapshot_date, scores.snapshot_date) as snapshot_date,
        coalesce(features.account_id, scores.account_id) as account_id,
        case
            when scores.account_id is null then 'no score row'
            when features.account_id is null then 'score row for an account without features'
            when scores.score_rows > 1 then 'duplicate score rows'
            when features.bucket = 'WO' and scores.probability is not null
                then 'written-off account scored'
            when features.bucket <> 'WO' and scores.probability is null then 'account not scored'
            when scores.probability < 0 or scores.probability > 1 then 'probability outside [0, 1]'
            when (scores.probability is null) <> (scores.risk_grade is null)
                then 'grade does not match probability'
            when scores.early_warning and features.bucket <> 'M0'
                then 'early warning on a delinquent account'
            when scores.needs_reasons <> (scores.probability is not null
                    and (coalesce(features.days_past_due, 0) > 0 or scores.early_warning))
                then 'needs_reasons inconsistent'
        end as problem
    from features
    full outer join scores using (snapshot_date, account_id)
)

select * from final where problem is not null
