-- The latest version of every customer: the newest night's row wins.
-- customers_history keeps every version (one per night the customer was sent).
create or replace view customers as
with

ranked as (
    select
        *,
        row_number() over (
            partition by customer_id order by landing_date desc, source_row desc
        ) as version_rank
    from customers_history
),

final as (
    select * exclude (version_rank) from ranked where version_rank = 1
)

select * from final
