-- The plan's contacts of night $night take their account's tier row's experiment and arm
-- (null outside a running experiment); rows already tagged keep theirs.
update contact_history as h
set experiment_id = t.experiment_id, arm = t.arm
from collection_tiers as t
where t.snapshot_date = $night
    and h.snapshot_date = $night
    and h.account_id = t.account_id
    and h.source = 'plan'
    and h.arm is null
    and t.arm is not null
