-- Every running offer's instalments as of $night: the account's payments on snapshots after the
-- acceptance day up to $night, allocated to the instalments in order (each up to its amount).
-- An instalment not paid in full by due_date + grace_days is missed.
update offer_instalments as i
set
    paid_amount = f.paid_amount,
    status = f.status,
    paid_night = case when f.status = 'paid' then coalesce(i.paid_night, cast($night as date)) end
from (
    select
        i.offer_id,
        i.number,
        cast(least(i.amount, greatest(0, coalesce(p.paid, 0) - (c.through - i.amount)))
             as decimal(18, 2)) as paid_amount,
        case
            when coalesce(p.paid, 0) >= c.through then 'paid'
            when cast($night as date) > i.due_date + r.grace_days then 'missed'
            else 'due'
        end as status
    from offer_instalments as i
    inner join offers as o on o.offer_id = i.offer_id
    inner join offer_rules as r on r.type = o.type and r.currency = o.currency
    inner join (
        select offer_id, number,
            sum(amount) over (partition by offer_id order by number) as through
        from offer_instalments
    ) as c on c.offer_id = i.offer_id and c.number = i.number
    left join (
        select o.offer_id, sum(s.payment_amount) as paid
        from offers as o
        inner join account_snapshots as s
            on s.account_id = o.account_id
            and s.snapshot_date > o.accepted_on
            and s.snapshot_date <= cast($night as date)
        where o.status in ('accepted', 'active', 'kept')
        group by o.offer_id
    ) as p on p.offer_id = i.offer_id
    where o.status in ('accepted', 'active', 'kept')
) as f
where i.offer_id = f.offer_id and i.number = f.number
