-- What: reason codes for an account that does not need them, ranks that are not 1, 2, 3 without
--       gaps, a reason that lowers the risk (contribution <= 0), an empty phrase, or a
--       model version other than the one that scored the account that night.
-- Why: collectors and letters quote these reasons; each must be a real, ranked, risk-raising
--       reason from the model that set the account's grade.
-- Threshold: any row fails (ERROR).
with

reasons as (
    select *, row_number() over (partition by snapshot_date, account_id order by rank) as position
    from account_reason_codes
    where snapshot_date between $start_date and $end_date
),

final as (
    select
        reasons.snapshot_date,
        reasons.account_id,
        reasons.rank,
        case
            when scores.account_id is null or not scores.needs_reasons
                then 'reason for an account that does not need one'
            when reasons.rank <> reasons.position or reasons.rank > 3 then 'rank gap or over 3'
            when reasons.contribution <= 0 then 'reason does not raise the risk'
            when trim(reasons.reason_zh) = '' or trim(reasons.reason_en) = '' then 'empty phrase'
            when reasons.model_version <> scores.model_version then 'model version differs'
        end as problem
    from reasons
    left join account_scores as scores using (snapshot_date, account_id)
)

select * from final where problem is not null
