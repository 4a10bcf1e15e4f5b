-- End tonight's ($night) placements that must end, first reason that applies:
--   recalled: a recall trigger (agency_triggers) landed after the placement night, or a payment
--     on a snapshot after it ('payment' in $recall_on); the first in the strategy's recall order
--     (recall_rules: reason, priority);
--   returned: tonight the account is closed or out of the placed buckets ($buckets); an account
--     with no row tonight stays placed (a missing file is not a cure);
--   rotated: its rotation_due is tonight or earlier.
update agency_placements as p
set status = x.status, recalled_night = cast($night as date), recall_reason = x.reason
from (
    with active as (
        select placement_id, account_id, customer_id, placed_night, rotation_due
        from agency_placements
        where status = 'active' and placed_night < cast($night as date)
    ),

    triggers as (
        select a.placement_id, t.reason
        from active as a
        inner join agency_triggers as t
            on t.customer_id = a.customer_id
            and (t.account_id is null or t.account_id = a.account_id)
        where t.landing_date > a.placed_night
        union all
        select a.placement_id, 'payment' as reason
        from active as a
        inner join account_snapshots as s on s.account_id = a.account_id
        where list_contains($recall_on, 'payment')
            and s.snapshot_date > a.placed_night
            and s.snapshot_date <= cast($night as date)
            and s.payment_amount > 0
    ),

    recalls as (
        select t.placement_id, arg_min(t.reason, r.priority) as reason
        from triggers as t
        inner join recall_rules as r on r.reason = t.reason
        group by t.placement_id
    ),

    tonight as (
        select account_id, status, bucket
        from account_features
        where snapshot_date = cast($night as date)
    )

    select
        a.placement_id,
        case
            when rc.reason is not null then 'recalled'
            when tn.status = 'closed' or not list_contains($buckets, tn.bucket) then 'returned'
            else 'rotated'
        end as status,
        case
            when rc.reason is not null then rc.reason
            when tn.status = 'closed' then 'closed'
            when not list_contains($buckets, tn.bucket) then 'left_placed_buckets'
            else 'rotation'
        end as reason
    from active as a
    left join recalls as rc on rc.placement_id = a.placement_id
    left join tonight as tn on tn.account_id = a.account_id
    where rc.reason is not null
        or (tn.account_id is not null
            and (tn.status = 'closed' or not list_contains($buckets, tn.bucket)))
        or a.rotation_due <= cast($night as date)
) as x
where p.placement_id = x.placement_id
