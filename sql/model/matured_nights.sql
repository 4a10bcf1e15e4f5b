-- matured_nights: the nights of account_features whose label has matured by $as_of.
-- A night's label date is months_later(night, $horizon_months); it has matured when that date is
-- at or before $as_of and at or before the latest loaded snapshot night (a label cannot be read
-- from a night the warehouse does not have yet). Nights before $earliest are left out.
--   night: an account_features night
--   label_date: months_later(night, $horizon_months)
with

latest_loaded as (
    select least(cast($as_of as date), max(snapshot_date)) as matured_by
    from account_snapshots
    where snapshot_date <= cast($as_of as date)
),

nights as (
    select distinct snapshot_date as night
    from account_features
    where snapshot_date between cast($earliest as date) and cast($as_of as date)
),

final as (
    select
        nights.night,
        months_later(nights.night, $horizon_months) as label_date
    from nights
    cross join latest_loaded
    where months_later(nights.night, $horizon_months) <= latest_loaded.matured_by
    order by nights.night
)

select * from final
