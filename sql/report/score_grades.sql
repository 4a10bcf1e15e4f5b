-- Tonight's scored accounts by risk grade: how the model spreads the book.
-- Grain: one row per risk_grade (null = unscored, e.g. written off).
--   risk_grade: A..E
--   accounts, mean_probability, early_warnings, model_version
select
    risk_grade,
    count(*) as accounts,
    avg(probability) as mean_probability,
    count(*) filter (where early_warning) as early_warnings,
    max(model_version) as model_version
from account_scores
where snapshot_date = $night
group by risk_grade
order by risk_grade nulls last
