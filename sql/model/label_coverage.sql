-- label_coverage: per observation night of label_keys (create_label_keys.sql), where every account
-- of account_features went on the way to a label (before sampling), so nothing is dropped silently.
--   snapshot_date: the observation night
--   label_date: months_later(snapshot_date, $horizon_months)
--   all_buckets: every account of the night was observed; false on a night observed for its
--     delinquent accounts only (config delinquent_observation_every_days), whose counts below
--     are of the delinquent accounts
--   accounts: accounts in account_features that night (delinquent modelled ones only when not all_buckets)
--   excluded_bucket: accounts in $excluded_buckets that night (default WO), not modelled
--   absent_at_label_date: modelled accounts with no snapshot in [label_date - 3 days, label_date]
--   labelled: modelled accounts with a label
--   rolled_forward: labelled accounts whose bucket got worse (label 1)
select
    snapshot_date,
    any_value(label_date) as label_date,
    bool_or(all_buckets) as all_buckets,
    count(*) as accounts,
    count(*) filter (where excluded) as excluded_bucket,
    count(*) filter (where not excluded and label_snapshot_date is null) as absent_at_label_date,
    count(label_snapshot_date) filter (where not excluded) as labelled,
    count(*) filter (
        where not excluded and bucket_rank(bucket_later) > bucket_rank(bucket)
    ) as rolled_forward
from label_keys
group by snapshot_date
order by snapshot_date
