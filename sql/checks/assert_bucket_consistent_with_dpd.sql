-- What: feature rows whose bucket is not the bucket of their days past due and status.
-- Why: every later stage (model target, tiers, reports) reads the bucket; it must follow DOMAIN §1.
-- Threshold: any row fails (ERROR).
select snapshot_date, account_id, days_past_due, status, bucket
from account_features
where snapshot_date between $start_date and $end_date
    and bucket is distinct from delinquency_bucket(days_past_due, status)
