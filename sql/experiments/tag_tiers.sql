-- Every tier row of experiment $experiment_id's nights [$start_date, $end_date] records the
-- experiment and the customer's arm (champion included).
update collection_tiers as t
set experiment_id = a.experiment_id, arm = a.arm
from experiment_assignments as a
where a.experiment_id = $experiment_id
    and a.customer_id = t.customer_id
    and t.snapshot_date between cast($start_date as date) and cast($end_date as date)
