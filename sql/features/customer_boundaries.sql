-- Customer ids that cut the night's snapshots into ranges of about equal size ($fractions: the
-- cut points as shares, e.g. [0.25, 0.5, 0.75]); customer_id is required by the contract.
select quantile_disc(customer_id, cast($fractions as double[])) as boundaries
from account_snapshots
where snapshot_date = cast($night as date)
