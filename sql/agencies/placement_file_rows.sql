-- The placement file rows of tonight's ($night) placements, per agency: every field an agency
-- may be given (the asset writes only the strategy's placement_fields). Personal data: this
-- result goes only to the placement files, never to logs or metadata.
-- account_reference is the lender's account number the debtor knows; amount_due the balance
-- placed, in its currency.
with latest as (
    select
        customer_id,
        arg_max(full_name, landing_date) as full_name,
        arg_max(mobile_phone, landing_date) as mobile_phone,
        -- as the post writes it: Chinese addresses from the region down, others street first
        arg_max(case
            when country = 'CN' then concat_ws(' ', region, city, postal_address, postal_code)
            else concat_ws(', ', postal_address, city, concat_ws(' ', region, postal_code))
        end, landing_date) as address
    from customers_history
    where landing_date <= cast($night as date)
    group by customer_id
)

select
    p.agency_id,
    p.placement_id,
    p.account_id as account_reference,
    l.full_name as debtor_name,
    l.mobile_phone as phone,
    l.address,
    p.balance_at_placement as amount_due,
    p.currency,
    p.placed_night as placed_date
from agency_placements as p
left join latest as l on l.customer_id = p.customer_id
where p.placed_night = cast($night as date)
order by p.agency_id, p.placement_id
