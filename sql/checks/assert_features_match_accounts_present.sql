-- What: accounts present in a night's snapshots without a feature row, or feature rows for an
--       account absent that night, or more than one feature row per account and night.
-- Why: the model scores and tiers exactly the accounts of the night.
-- Threshold: any row fails (ERROR).
with

snapshots as (
    select snapshot_date, account_id
    from account_snapshots
    where snapshot_date between $start_date and $end_date
),

features as (
    select snapshot_date, account_id, count(*) as feature_rows
    from account_features
    where snapshot_date between $start_date and $end_date
    group by all
),

final as (
    select
        coalesce(snapshots.snapshot_date, features.snapshot_date) as snapshot_date,
        coalesce(snapshots.account_id, features.account_id) as account_id,
        case
            when features.account_id is null then 'no feature row'
            when snapshots.account_id is null then 'feature row for an absent account'
            else 'duplicate feature rows'
        end as problem
    from snapshots
    full outer join features
        on features.snapshot_date = snapshots.snapshot_date
        and features.account_id = snapshots.account_id
    where features.account_id is null or snapshots.account_id is null or features.feature_rows > 1
)

select * from final
