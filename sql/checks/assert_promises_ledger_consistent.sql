-- What: promise ledger rows that contradict themselves: a promise_id twice, an unknown status,
--       a resolved_night missing on a decided promise (or present on an open one), a kept promise
--       paid less than promised, a broken one paid at least that, a superseded one without the
--       promise that replaced it, a resolution before the promise landed.
-- Why: suppressions, the report and the kept rates all read the ledger (issue 19).
-- Threshold: any row fails (ERROR).
-- Columns: promise_id, status, promised_night, resolved_night, promised_amount, paid_amount,
--   problem
select promise_id, status, promised_night, resolved_night, promised_amount, paid_amount, problem
from (
    select
        *,
        case
            when count(*) over (partition by promise_id) > 1 then 'duplicate promise_id'
            when status not in ('open', 'kept', 'broken', 'superseded', 'unverifiable')
                then 'unknown status'
            when (status = 'open') = (resolved_night is not null) then 'resolved_night'
            when resolved_night < promised_night then 'resolved before it landed'
            when status = 'kept' and paid_amount < promised_amount then 'kept but paid short'
            when status = 'broken' and paid_amount >= promised_amount then 'broken but paid'
            when status = 'superseded' and superseded_by is null then 'superseded by nothing'
        end as problem
    from promises
)
where problem is not null
