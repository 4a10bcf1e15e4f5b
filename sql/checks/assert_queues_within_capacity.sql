-- What: (night, jurisdiction, queue) of contact_history for nights in [$start_date, $end_date]
--       whose tasks on the work list (planned from the strategy, not overflow, not cancelled)
--       are more than the queue's capacity that night (queue_capacity; null: unlimited).
-- Why: a queue holds what tonight's staff can reach; the rest is overflow with its reason
--       (issue 17), never a longer list nobody works.
-- Threshold: any row fails (ERROR).
-- Columns: snapshot_date, jurisdiction, queue, tasks, queue_capacity
select
    snapshot_date,
    jurisdiction,
    queue,
    count(*) as tasks,
    max(queue_capacity) as queue_capacity
from contact_history
where
    snapshot_date between cast($start_date as date) and cast($end_date as date)
    and source = 'plan'
    and queue is not null
    and status not in ('overflow', 'cancelled')
group by snapshot_date, jurisdiction, queue
having count(*) > max(queue_capacity)
