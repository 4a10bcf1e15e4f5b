-- delinquency_bucket (DOMAIN.md §1): M0 current · M1 1-30 · M2 31-60 · M3 61-90 · M4 91-120 ·
--   M5 121-150 · M6 151-180 · WO written off (DPD > 180 or status charged_off). Python twin: models/buckets.py.
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
    end
