-- Destinations marked bad by the outcomes of nights [$start_date, $end_date], per channel.
select channel, count(*) as destinations
from bad_destinations
where noted_on between $start_date and $end_date
group by all
order by channel
