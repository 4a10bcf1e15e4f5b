-- The champion's tier rows of arm $arm of experiment $experiment_id on nights
-- [$start_date, $end_date] go: the arm's own (insert_arm_tiers.sql) take their place.
delete from collection_tiers
where snapshot_date between cast($start_date as date) and cast($end_date as date)
    and customer_id in (
        select customer_id from experiment_assignments
        where experiment_id = $experiment_id and arm = $arm
    )
