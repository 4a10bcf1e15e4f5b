-- Risk-grade mix of one night's scores, with early-warning and needs-reasons counts per grade.
select risk_grade, count(*) as accounts, count(*) filter (where early_warning) as early_warning,
    count(*) filter (where needs_reasons) as needing_reasons
from account_scores
where snapshot_date = $night
group by all
order by risk_grade nulls last
