-- The SQL's values of the features the pandas twin computes, for the cross-check.
select account_id, max_dpd_30d, max_dpd_90d, max_dpd_180d, times_30plus_180d, cures_180d,
    limit_changes_180d, utilisation, balance_change_30d
from account_features
where snapshot_date = $night
