-- Tonight's tier rows of accounts with a running offer (accepted, active, kept) are suppressed
-- payment_plan_active: no regular treatment while the plan is followed. The reason joins the
-- list once (a rerun adds nothing) and is the recorded reason when no other applies.
update collection_tiers as t
set
    suppression_reason = coalesce(t.suppression_reason, 'payment_plan_active'),
    suppression_reasons = case
        when t.suppression_reasons is null then 'payment_plan_active'
        else t.suppression_reasons || ',payment_plan_active' end
where t.snapshot_date = cast($night as date)
    and t.tier is not null
    and coalesce(list_contains(string_split(t.suppression_reasons, ','), 'payment_plan_active'),
                 false) = false
    and t.account_id in (
        select account_id from offers where status in ('accepted', 'active', 'kept')
    )
