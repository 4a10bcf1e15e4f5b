-- Kept state nights before $night, newest first (the oldest to keep bounds the retention).
select state_night
from account_feature_state_night
where state_night < cast($night as date)
order by state_night desc
