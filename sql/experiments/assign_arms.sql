-- Assign experiment $experiment_id's arm to every customer of collection_tiers' nights
-- [$start_date, $end_date] not yet assigned: u = the first 15 hex digits of
-- sha256(seed|experiment_id|customer_id) / 16^15, uniform in [0, 1); holdout when
-- u < $holdout_share, challenger when u < $holdout_share + $challenger_share, else champion.
-- first_night: the customer's first night among these.
insert into experiment_assignments
select
    $experiment_id as experiment_id,
    c.customer_id,
    case
        when c.u < $holdout_share then 'holdout'
        when c.u < $holdout_share + $challenger_share then 'challenger'
        else 'champion'
    end as arm,
    c.first_night
from (
    select
        customer_id,
        min(snapshot_date) as first_night,
        cast(cast('0x' || substr(sha256(concat_ws('|', $seed, $experiment_id, customer_id)), 1, 15)
                  as ubigint) as double) / pow(16, 15) as u
    from collection_tiers
    where snapshot_date between cast($start_date as date) and cast($end_date as date)
    group by customer_id
) as c
where c.customer_id not in (
    select customer_id from experiment_assignments where experiment_id = $experiment_id
)
