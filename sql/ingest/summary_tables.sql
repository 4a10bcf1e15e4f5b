-- Rows and nights per ingested table.
with

per_table as (
    select 'account_snapshots' as table_name, snapshot_date as night from account_snapshots
    union all
    select 'customers_history', landing_date from customers_history
    union all
    select 'contact_events', landing_date from contact_events
),

final as (
    select
        table_name,
        count(distinct night) as nights,
        min(night) as first_night,
        max(night) as last_night,
        count(*) as row_count
    from per_table
    group by table_name
)

select * from final order by table_name
