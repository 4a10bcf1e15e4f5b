-- Domain definitions every feature query shares (DOMAIN.md §1-2), as DuckDB macros.
-- delinquency_bucket: M0 current · M1 1-30 · M2 31-60 · M3 61-90 · M4 91-120 · M5 121-150 ·
--   M6 151-180 · WO written off (DPD > 180 or status charged_off).
-- bucket_rank: the order of the buckets, to tell a roll forward from a roll back.
-- one_month_earlier: same day of the previous month, clamped to its last day (31 Mar -> 28/29
--   Feb); a month's last day maps to the previous month's last day (30 Nov -> 31 Oct).
-- five_class: Chinese regulatory grading 正常 current · 关注 1-90 · 次级 91-120 · 可疑 121-180 · 损失 >180.
create or replace macro delinquency_bucket(days_past_due, status) as
    case
        when status = 'charged_off' or days_past_due > 180 then 'WO'
        when days_past_due = 0 then 'M0'
        when days_past_due <= 30 then 'M1'
        when days_past_due <= 60 then 'M2'
        when days_past_due <= 90 then 'M3'
        when days_past_due <= 120 then 'M4'
        when days_past_due <= 150 then 'M5'
        else 'M6'
    end;

create or replace macro bucket_rank(bucket) as
    case bucket
        when 'M0' then 0 when 'M1' then 1 when 'M2' then 2 when 'M3' then 3 when 'M4' then 4
        when 'M5' then 5 when 'M6' then 6 when 'WO' then 7
    end;

create or replace macro one_month_earlier(night) as
    cast(
        case
            when night = last_day(night) then last_day(night - interval 1 month)
            else night - interval 1 month
        end as date
    );

create or replace macro five_class(days_past_due, status) as
    case
        when status = 'charged_off' or days_past_due > 180 then 'loss'
        when days_past_due > 120 then 'doubtful'
        when days_past_due > 90 then 'substandard'
        when days_past_due > 0 then 'special_mention'
        else 'normal'
    end;
