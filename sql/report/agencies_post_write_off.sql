-- Report 9, agencies: payments after write-off per currency, on the night ($night) and to date.
select
    currency,
    count(distinct account_id) filter (where snapshot_date = cast($night as date))
        as accounts_tonight,
    coalesce(sum(payment_amount) filter (where snapshot_date = cast($night as date)), 0)
        as recovered_tonight,
    count(distinct account_id) as accounts_to_date,
    sum(payment_amount) as recovered_to_date
from post_write_off_recoveries
where snapshot_date <= cast($night as date)
group by currency
order by currency
