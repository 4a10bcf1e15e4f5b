-- one_month_earlier (DOMAIN.md §2): same day of the previous month, clamped to its last day
--   (31 Mar -> 28/29 Feb); a month's last day maps to the previous month's last day (30 Nov -> 31 Oct).
create or replace macro one_month_earlier(night) as
    cast(
        case
            when night = last_day(night) then last_day(night - interval 1 month)
            else night - interval 1 month
        end as date
    )
