-- collection_tiers has exactly one row per account present and not closed on each night in
-- [$start_date, $end_date], and none for other accounts. Threshold: no rows returned.
with

expected as (
    select snapshot_date, account_id
    from account_features
    where snapshot_date between $start_date and $end_date and status <> 'closed'
),

actual as (
    select snapshot_date, account_id, count(*) as rows_for_account
    from collection_tiers
    where snapshot_date between $start_date and $end_date
    group by snapshot_date, account_id
),

final as (
    select
        coalesce(e.snapshot_date, a.snapshot_date) as snapshot_date,
        coalesce(e.account_id, a.account_id) as account_id,
        coalesce(a.rows_for_account, 0) as rows_for_account,
        e.account_id is not null as expected
    from expected as e
    full outer join actual as a
        on a.snapshot_date = e.snapshot_date and a.account_id = e.account_id
    where e.account_id is null or a.account_id is null or a.rows_for_account <> 1
)

select * from final
