-- features_for_night: every account_features row of one night, the input of nightly scoring.
with

final as (
    select *
    from account_features
    where snapshot_date = cast($night as date)
    order by account_id
)

select * from final
