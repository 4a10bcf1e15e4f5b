-- The accounts a carried-state pass folds: last night's state rows and tonight's snapshots
-- (what decides how many account ranges it runs in).
select
    (select count(*) from account_feature_state where state_night = cast($previous_night as date))
    + (select count(*) from account_snapshots where snapshot_date = cast($night as date))
        as accounts
