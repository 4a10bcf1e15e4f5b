-- What: early-warning accounts of collection_tiers for nights in [$start_date, $end_date] that
--       no tier rule treats (early_warning_action null), or that, once the night is planned
--       (contacts_planned not null), got no contact and carry no reason (no suppression_reason,
--       no channel_suppressions).
-- Why: an early warning is only worth raising if it leads to a treatment (the pre-due reminder
--       or the strategy's watch) or to a recorded reason it did not (issue 17).
-- Threshold: any row fails (ERROR).
-- Columns: snapshot_date, account_id, bucket, tier, treatment, early_warning_action,
--   contacts_planned, problem (no_treatment or no_contact_no_reason)
select
    snapshot_date,
    account_id,
    bucket,
    tier,
    treatment,
    early_warning_action,
    contacts_planned,
    case
        when early_warning_action is null then 'no_treatment'
        else 'no_contact_no_reason'
    end as problem
from collection_tiers
where snapshot_date between $start_date and $end_date
    and early_warning
    and (
        early_warning_action is null
        or (contacts_planned = 0 and suppression_reason is null and channel_suppressions is null)
    )
