-- Report 9, agencies: recovery per agency and currency by the night ($night). Collected: the
-- snapshots' payment_amount on the placed account on nights after its placement night, up to
-- the night it ended (a payment that recalls it counts for the agency) and not after $night.
-- recovery_rate = collected / balance at placement, never across currencies.
with placed as (
    select *
    from agency_placements
    where placed_night <= cast($night as date)
),

paid as (
    select p.placement_id, coalesce(sum(s.payment_amount), 0) as collected
    from placed as p
    left join account_snapshots as s
        on s.account_id = p.account_id
        and s.snapshot_date > p.placed_night
        and s.snapshot_date <= least(coalesce(p.recalled_night, cast($night as date)),
                                     cast($night as date))
    group by p.placement_id
)

select
    p.agency_id,
    p.currency,
    count(*) as placements,
    sum(p.balance_at_placement) as balance_placed,
    sum(pd.collected) as collected,
    case when sum(p.balance_at_placement) > 0
         then cast(sum(pd.collected) as double) / cast(sum(p.balance_at_placement) as double)
    end as recovery_rate
from placed as p
inner join paid as pd on pd.placement_id = p.placement_id
group by p.agency_id, p.currency
order by p.agency_id, p.currency
