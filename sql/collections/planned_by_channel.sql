-- The night's planned contacts by channel and status, for the UI.
select channel, status, count(*) as contacts
from contact_history
where snapshot_date = $night and source = 'plan'
group by channel, status
order by channel, status
