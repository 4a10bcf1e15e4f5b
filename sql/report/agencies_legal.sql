-- Report 9, agencies: the night's ($night) write-off review by legal track (null: none, with
-- its reason), per jurisdiction and currency.
select
    jurisdiction,
    coalesce(track, 'none') as track,
    track_reason,
    currency,
    count(*) as accounts,
    sum(balance) as balance
from legal_review
where snapshot_date = cast($night as date)
group by all
order by jurisdiction, track, track_reason, currency
