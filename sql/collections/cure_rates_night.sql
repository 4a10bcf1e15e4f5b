-- One night of cure_rates, for the UI.
select tier, treatment, contacts_tonight, contacts, paid_rate_7d, cure_rate_7d, contacts_30d,
    paid_rate_30d, cure_rate_30d
from cure_rates
where snapshot_date = $night
order by tier, treatment
