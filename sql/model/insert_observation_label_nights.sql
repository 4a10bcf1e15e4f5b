-- Record the nights of $nights just computed into observation_labels, with their rule and time.
insert into observation_label_nights
select
    snapshot_date,
    any_value(label_date) as label_date,
    cast($horizon_months as integer) as horizon_months,
    cast($seed as bigint) as seed,
    $definition as definition,
    count(*) as accounts,
    cast($built_at as timestamptz) as built_at
from observation_labels
where list_contains(cast($nights as date[]), snapshot_date)
group by snapshot_date
