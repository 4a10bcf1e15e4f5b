-- Cure rates after treatment by tier and treatment, as the collections stage computes them.
-- Grain: one row per (tier, treatment).
--   tier, treatment: the tier and treatment at contact
--   contacts: treatments in the 7-day cohort; paid_7d, cured_7d: of those, paid / cured in 7 nights
--   contacts_30d: treatments in the 30-day cohort; paid_30d, cured_30d: of those, in 30 nights
select tier, treatment, contacts, paid_7d, cured_7d, contacts_30d, paid_30d, cured_30d
from cure_rates
where snapshot_date = $night
order by tier, treatment
