-- Vintage curves as known on the report night: the latest open months only.
-- Grain: one row per (open_month, months_on_book), censored cells included (their shares NULL).
--   open_month, months_on_book, observed, first_observed_mob, accounts, balance, ever_30plus,
--   share_ever_30plus, share_ever_30plus_balance: as in vintage_curves
select
    open_month, months_on_book, observed, first_observed_mob, accounts, balance, ever_30plus,
    share_ever_30plus, share_ever_30plus_balance
from vintage_curves
where snapshot_date = $night
    and open_month >= cast(date_trunc('month', $night) as date) - interval 12 months
order by open_month, months_on_book
