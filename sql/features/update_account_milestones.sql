-- Fold the nights [$start_date, $end_date] into account_milestones (earliest date wins).
insert or replace into account_milestones
with

tonight as (
    select
        account_id,
        any_value(product) as product,
        min(open_date) as open_date,
        min(snapshot_date) as first_seen,
        min(snapshot_date) filter (
            where days_past_due >= 31 or delinquency_bucket(days_past_due, status) = 'WO'
        ) as first_30plus,
        min(snapshot_date) filter (
            where days_past_due >= 91 or delinquency_bucket(days_past_due, status) = 'WO'
        ) as first_90plus
    from account_snapshots
    where snapshot_date between $start_date and $end_date
    group by account_id
),

final as (
    select
        tonight.account_id,
        coalesce(known.product, tonight.product) as product,
        least(known.open_date, tonight.open_date) as open_date,
        least(known.first_seen, tonight.first_seen) as first_seen,
        least(known.first_30plus, tonight.first_30plus) as first_30plus,
        least(known.first_90plus, tonight.first_90plus) as first_90plus
    from tonight
    left join account_milestones as known on known.account_id = tonight.account_id
)

select * from final
