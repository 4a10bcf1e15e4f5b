-- Each scored night's figures for its partition in the UI (account_scores).
-- Grain: one row per night of [$start_date, $end_date] that has scores.
--   snapshot_date: the night
--   rows: score rows (accounts of the night's features)
--   scored: accounts with a probability (written-off accounts are not scored)
--   early_warning: current accounts flagged early-warning
--   needing_reasons: overdue or early-warning accounts that get reason codes
--   mean_probability: mean probability over the scored accounts
--   model_version: the registry version that scored the night (the latest, if several)
select
    snapshot_date,
    count(*) as rows,
    count(probability) as scored,
    count(*) filter (where early_warning) as early_warning,
    count(*) filter (where needs_reasons) as needing_reasons,
    avg(probability) as mean_probability,
    max(model_version) as model_version
from account_scores
where snapshot_date between $start_date and $end_date
group by snapshot_date
order by snapshot_date
