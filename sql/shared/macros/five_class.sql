-- five_class: Chinese regulatory grading 正常 current · 关注 1-90 · 次级 91-120 · 可疑 121-180 · 损失 >180.
create or replace macro five_class(days_past_due, status) as
    case
        when status = 'charged_off' or days_past_due > 180 then 'loss'
        when days_past_due > 120 then 'doubtful'
        when days_past_due > 90 then 'substandard'
        when days_past_due > 0 then 'special_mention'
        else 'normal'
    end
