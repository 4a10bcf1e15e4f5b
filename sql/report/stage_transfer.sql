-- IFRS 9 stage transfers over the month: every account in the file a month earlier
-- ($month_earlier, DOMAIN §2) or tonight ($night), by its state then x its state tonight.
-- State: written_off (bucket WO), closed (status closed and nothing owed: derecognised), else the
-- stage by the rule of ifrs9_exposure.sql: 3 from bucket rank $stage_3_rank, 2 from rank
-- $stage_2_rank or early-warning, else 1. Early-warning tonight {% if with_scores %}from
-- account_scores{% else %}not known (no scores){% endif %}; a month earlier {% if with_scores_earlier %}from
-- account_scores of that night{% else %}not known (no scores that night): staged by bucket only{% endif %}.
-- `new`: not in the file a month earlier (row); `gone`: not in tonight's file (column).
-- Grain: one row per (currency, from_state, from_bucket, to_state).
--   currency: the account's currency (tonight's, or a month earlier's when gone)
--   from_state: 1, 2, 3, written_off, closed or new
--   from_bucket: the bucket a month earlier (null when new)
--   to_state: 1, 2, 3, written_off, closed or gone
--   accounts: accounts
--   balance_then: their balance a month earlier (0 when new)
--   balance_now: their balance tonight (0 when gone)
with

nights as (
    select
        snapshots.snapshot_date,
        snapshots.account_id,
        snapshots.currency,
        snapshots.status,
        snapshots.balance,
        delinquency_bucket(snapshots.days_past_due, snapshots.status) as bucket,
{%- if with_scores or with_scores_earlier %}
        coalesce(scores.early_warning, false) as early_warning
    from account_snapshots as snapshots
    left join account_scores as scores
        on scores.snapshot_date = snapshots.snapshot_date
        and scores.account_id = snapshots.account_id
{%- if not with_scores %}
        and scores.snapshot_date <> $night
{%- elif not with_scores_earlier %}
        and scores.snapshot_date <> $month_earlier
{%- endif %}
{%- else %}
        false as early_warning
    from account_snapshots as snapshots
{%- endif %}
    where snapshots.snapshot_date in ($night, $month_earlier)
),

staged as (
    select
        nights.*,
        case
            when bucket = 'WO' then 'written_off'
            when status = 'closed' and balance = 0 then 'closed'
            when bucket_rank(bucket) >= $stage_3_rank then '3'
            when bucket_rank(bucket) >= $stage_2_rank or early_warning then '2'
            else '1'
        end as state
    from nights
),

earlier as (
    select * from staged where snapshot_date = $month_earlier
),

tonight as (
    select * from staged where snapshot_date = $night
),

paired as (
    select
        coalesce(tonight.currency, earlier.currency) as currency,
        coalesce(earlier.state, 'new') as from_state,
        earlier.bucket as from_bucket,
        coalesce(tonight.state, 'gone') as to_state,
        coalesce(earlier.balance, 0) as balance_then,
        coalesce(tonight.balance, 0) as balance_now
    from earlier
    full outer join tonight on tonight.account_id = earlier.account_id
)

select
    currency,
    from_state,
    from_bucket,
    to_state,
    count(*) as accounts,
    sum(balance_then) as balance_then,
    sum(balance_now) as balance_now
from paired
group by all
order by currency, from_state, from_bucket, to_state
