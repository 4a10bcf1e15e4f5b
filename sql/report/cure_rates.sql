-- Cure rates after treatment by tier and treatment, as the collections stage computes them.
-- Grain: one row per (tier, treatment).
select tier, treatment, contacts, paid_7d, cured_7d, paid_30d, cured_30d
from cure_rates
where snapshot_date = $night
order by tier, treatment
