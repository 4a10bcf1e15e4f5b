-- The rate of each currency into the reporting currency, for every night of [$start_date,
-- $end_date]: the latest rate dated in the look-back window up to the night (7 days,
-- pipelines/lib/fx.py), taken as given (currency -> reporting) or inverted (reporting ->
-- currency); on one date a direct rate wins over an inverted one. A pair given two different
-- rates on one date is ambiguous: that date is not used for it. The reporting currency itself
-- is not listed (its rate is 1).
-- Grain: one row per (night, currency) with a usable rate.
--   night: the night the rate is used for
--   currency: ISO 4217 code converted from
--   rate: units of the reporting currency for one unit of currency
--   rate_date: the date of the rate used (night - lookback_days .. night)
--   source_pair: the pair as landed, e.g. USD/CNY, or CNY/USD when inverted
with

nights as (
    select cast(night as date) as night
    from generate_series(cast($start_date as date), cast($end_date as date), interval 1 day)
        as series (night)
),

landed as (
    select
        rate_date,
        upper(trim(from_currency)) as from_currency,
        upper(trim(to_currency)) as to_currency,
        cast(rate as decimal(28, 10)) as rate
    from fx_rates
    where rate_date between cast($start_date as date) - cast($lookback_days as integer)
        and cast($end_date as date)
),

per_date as (
    select rate_date, from_currency, to_currency, min(rate) as rate
    from landed
    group by all
    having count(distinct rate) = 1
),

candidates as (
    select
        from_currency as currency,
        cast(rate as double) as rate,
        rate_date,
        from_currency || '/' || to_currency as source_pair,
        0 as inverted
    from per_date
    where to_currency = $reporting_currency and from_currency <> $reporting_currency
    union all
    select
        to_currency as currency,
        1.0 / cast(rate as double) as rate,
        rate_date,
        from_currency || '/' || to_currency as source_pair,
        1 as inverted
    from per_date
    where from_currency = $reporting_currency and to_currency <> $reporting_currency
),

ranked as (
    select
        nights.night,
        candidates.*,
        row_number() over (
            partition by nights.night, candidates.currency
            order by candidates.rate_date desc, candidates.inverted
        ) as preference
    from nights
    inner join candidates
        on candidates.rate_date between nights.night - cast($lookback_days as integer)
        and nights.night
)

select night, currency, rate, rate_date, source_pair
from ranked
where preference = 1
order by night, currency
