-- The carried feature night's kernel: read tonight's snapshot and last night's state, the two
-- inputs every night must read, and nothing else.
select
    (select count(*) + sum(days_past_due) + sum(balance) + sum(payment_amount)
     from account_snapshots
     where snapshot_date = cast($night as date)) as tonight,
    (select count(*) + sum(len(dpd_peaks)) + sum(len(payments)) + sum(len(present))
     from account_feature_state
     where state_night = cast($previous_night as date)) as state
