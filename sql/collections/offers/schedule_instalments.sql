-- The instalments of offers accepted tonight (once: an offer with instalments keeps them).
insert into offer_instalments
select
    o.offer_id,
    cast(n.number as integer) as number,
    o.accepted_on + r.first_due_days + (cast(n.number as integer) - 1) * r.interval_days
        as due_date,
    case when n.number = o.instalments then o.last_instalment_amount
        else o.instalment_amount end as amount,
    cast(0 as decimal(18, 2)) as paid_amount,
    'due' as status,
    cast(null as date) as paid_night
from offers as o
inner join offer_rules as r on r.type = o.type and r.currency = o.currency
cross join lateral (select unnest(range(1, o.instalments + 1)) as number) as n
where o.status = 'accepted'
    and o.decided_night = cast($night as date)
    and not exists (select 1 from offer_instalments as i where i.offer_id = o.offer_id)
