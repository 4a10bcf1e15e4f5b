-- The snapshots of the first $accounts accounts (by id): a slice pandas can hold.
with

chosen as (
    select distinct account_id from account_snapshots order by account_id limit $accounts
)

select snapshots.snapshot_date, snapshots.account_id, snapshots.days_past_due,
    snapshots.credit_limit, snapshots.balance
from account_snapshots as snapshots
semi join chosen on chosen.account_id = snapshots.account_id
