-- One night's monitoring figures whose status is an alert (PSI act, AUC or bucket off).
select measure, subject, value, status
from model_monitoring
where snapshot_date = $night and status in ('act', 'alert')
order by measure, value desc
