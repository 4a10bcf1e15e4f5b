-- Money of accepted offers by type and currency (never summed across currencies): the balance
-- in running plans, what their instalments ask, what was paid on them, and the amount waived by
-- completed settlements.
select
    o.type,
    o.currency,
    sum(o.balance_at_offer) filter (where o.status in ('accepted', 'active', 'kept'))
        as running_balance,
    sum(i.amount) as scheduled,
    sum(i.paid_amount) as paid,
    sum(i.amount) filter (where i.status = 'missed') as missed,
    sum(o.balance_at_offer - o.settlement_amount)
        filter (where o.type = 'settlement' and o.status = 'completed' and i.number = 1)
        as waived
from offers as o
inner join offer_instalments as i on i.offer_id = o.offer_id
where o.accepted_on is not null and o.offered_night <= cast($night as date)
group by o.type, o.currency
order by o.type, o.currency
