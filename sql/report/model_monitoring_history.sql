-- Model monitoring measures up to the report night (AUC, KS, Brier over time; PSI; predicted vs
-- observed by bucket), as the model stage writes them.
-- Grain: one row per (snapshot_date, model_version, measure, subject).
select snapshot_date, model_version, measure, subject, value, status
from model_monitoring
where snapshot_date between $night - interval 400 days and $night
order by snapshot_date, measure, subject
