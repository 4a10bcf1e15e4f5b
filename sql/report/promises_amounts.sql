-- Amounts promised and paid per currency (never added across currencies) for the promises kept
-- or broken in the 90 nights ending $night, and the amount of the promises open that night
-- (section 9, promises). Columns: currency ('' when unknown), decided, promised_amount,
--   paid_amount, open_promises, open_amount
select
    coalesce(currency, '') as currency,
    count(*) filter (where decided) as decided,
    coalesce(sum(promised_amount) filter (where decided), 0) as promised_amount,
    coalesce(sum(paid_amount) filter (where decided), 0) as paid_amount,
    count(*) filter (where still_open) as open_promises,
    coalesce(sum(promised_amount) filter (where still_open), 0) as open_amount
from (
    select
        *,
        status in ('kept', 'broken')
            and resolved_night between cast($night as date) - 89 and cast($night as date)
            as decided,
        resolved_night is null or resolved_night > cast($night as date) as still_open
    from promises
    where promised_night <= cast($night as date)
)
group by all
having count(*) filter (where decided or still_open) > 0
order by currency
