-- A delayed treatment: arm $arm of experiment $experiment_id waits $delay_days nights after each
-- tier entry (tier_since) before its first contact. Its tier rows within the wait are held with
-- account-wide reason experiment_delay (after any reason already there), except rows whose
-- treatment sends a letter the law requires ($required_treatments: those are never delayed).
update collection_tiers
set
    suppression_reason = coalesce(suppression_reason, 'experiment_delay'),
    suppression_reasons = coalesce(suppression_reasons || ',', '') || 'experiment_delay'
where snapshot_date between cast($start_date as date) and cast($end_date as date)
    and tier is not null
    and snapshot_date < tier_since + cast($delay_days as integer)
    and not list_contains(cast($required_treatments as varchar[]), treatment)
    and customer_id in (
        select customer_id from experiment_assignments
        where experiment_id = $experiment_id and arm = $arm
    )
