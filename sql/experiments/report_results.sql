-- The experiments sub-section of the report: night $night's experiment_results rows, the
-- primary metric first, then the fixed metric order; champion before challenger and holdout.
select *
from experiment_results
where snapshot_date = $night
order by
    experiment_id,
    not primary_metric,
    case metric
        when 'cure_30d' then 1 when 'roll_forward_30d' then 2 when 'amount_collected_30d' then 3
        when 'contacts_per_cure' then 4 when 'complaints_per_1000' then 5
    end,
    currency,
    case arm when 'champion' then 0 when 'challenger' then 1 else 2 end
