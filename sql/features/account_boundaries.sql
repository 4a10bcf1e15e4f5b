-- Account ids that cut tonight's snapshots into ranges of about equal size ($fractions: the cut
-- points as shares), for the carried-state pass run range by range on a large book.
select quantile_disc(account_id, cast($fractions as double[])) as boundaries
from account_snapshots
where snapshot_date = cast($night as date)
