-- Open offers (status offered) made by $night, latest first per account and type, with the
-- amounts a letter prints: the instalments in order (a settlement: its one amount).
select
    o.*,
    list_transform(range(1, o.instalments + 1),
                   lambda n: case when n = o.instalments then o.last_instalment_amount
                        else o.instalment_amount end) as amounts
from offers as o
where o.status = 'offered' and o.offered_night <= cast($night as date)
order by o.account_id, o.type, o.offered_night desc
