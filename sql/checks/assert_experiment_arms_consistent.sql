-- On the nights [$start_date, $end_date]: every tier row in an experiment carries its customer's
-- first assigned arm (experiment_assignments), and every contact the plan made for such a row
-- carries the row's experiment and arm, so each arm's results count only its own contacts.
-- Threshold: no rows returned.
select
    'collection_tiers' as source_table,
    t.snapshot_date,
    t.account_id,
    t.experiment_id,
    t.arm,
    a.arm as expected_arm
from collection_tiers as t
left join experiment_assignments as a
    on a.experiment_id = t.experiment_id and a.customer_id = t.customer_id
where t.experiment_id is not null
    and t.snapshot_date between cast($start_date as date) and cast($end_date as date)
    and a.arm is distinct from t.arm
union all
select
    'contact_history' as source_table,
    h.snapshot_date,
    h.account_id,
    h.experiment_id,
    h.arm,
    t.arm as expected_arm
from contact_history as h
inner join collection_tiers as t
    on t.snapshot_date = h.snapshot_date and t.account_id = h.account_id
where h.source = 'plan'
    and t.experiment_id is not null
    and h.snapshot_date between cast($start_date as date) and cast($end_date as date)
    and (h.arm is distinct from t.arm or h.experiment_id is distinct from t.experiment_id)
