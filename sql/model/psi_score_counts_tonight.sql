-- psi_score_counts_tonight: tonight's scores per PSI bin of the model's reference score edges,
-- read from account_scores (the night's scoring already predicted every account: monitoring does
-- not predict them again). Only the rows $model_version scored, outside $excluded_buckets.
-- Bins as in psi_counts_tonight.sql: the number of $edges at or below the probability, and
-- len($edges) + 1 for a missing one.
-- Columns: bin, rows.
select
    case
        when probability is null or isnan(probability) then len(cast($edges as double[])) + 1
        else len(list_filter(cast($edges as double[]), lambda edge: edge <= probability))
    end as bin,
    count(*) as rows
from account_scores
where
    snapshot_date = cast($night as date)
    and model_version = $model_version
    and not coalesce(list_contains(cast($excluded_buckets as varchar[]), bucket), false)
group by bin
