-- contact_history by status, for the contacts with an outcome loaded on [$start_date, $end_date].
select h.status, count(*) as contacts
from contact_history as h
where h.contact_id in (
    select contact_id from contact_outcomes where landing_date between $start_date and $end_date)
group by all
order by h.status
