-- The ledger's promises by status as they stood on $night (landed by then; a status decided on a
-- later night is still open), per currency: counts and amounts, no personal data.
select
    case when resolved_night <= cast($night as date) then status else 'open' end as status,
    coalesce(currency, '') as currency,
    count(*) as promises,
    sum(promised_amount) as promised_amount,
    sum(paid_amount) as paid_amount
from promises
where promised_night <= cast($night as date)
group by all
order by status, currency
