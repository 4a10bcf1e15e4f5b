-- Outcomes loaded on nights [$start_date, $end_date] by source and outcome: counts only.
select coalesce(source, 'gateway') as source, outcome, count(*) as outcomes
from contact_outcomes
where landing_date between $start_date and $end_date
group by all
order by source, outcome
