-- The accounts of arm $arm of experiment $experiment_id take the arm's tiers (temp table
-- arm_tiers holds only the nights being tiered).
insert into collection_tiers by name
select *
from arm_tiers
where customer_id in (
    select customer_id from experiment_assignments
    where experiment_id = $experiment_id and arm = $arm
)
