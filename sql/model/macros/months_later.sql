-- months_later(night, months): the label date of a night, DOMAIN.md §2-3, the forward twin of
-- one_month_earlier: the same day `months` months later, clamped to that month's last day
-- (30 Jan -> 28/29 Feb); a month's last day maps to the target month's last day
-- (30 Nov -> 31 Dec), so month-end books roll month-end to month-end. Matches the simulator's
-- one_month_later. Not its exact inverse: 30 Jan -> 28 Feb, but one_month_earlier(28 Feb) = 31 Jan.
-- A temp macro: it lives in the connection, so it adds nothing to the shared warehouse schema.
create or replace temp macro months_later(night, months) as
    cast(
        case
            when night = last_day(night) then last_day(night + to_months(months))
            else night + to_months(months)
        end as date
    )
