-- The offers' standing after $night's run: offers by status, and tonight's new offers.
select status, count(*) as offers from offers group by status
union all
select 'made_tonight' as status, count(*) as offers
from offers where offered_night = cast($night as date)
order by status
