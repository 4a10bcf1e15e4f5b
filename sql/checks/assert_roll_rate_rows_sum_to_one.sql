-- What: roll-rate matrix rows whose shares by count (or by balance) do not add up to 1.
-- Why: a row is the whole of a bucket's accounts one month earlier; anything else is lost or
--      double-counted accounts.
-- Threshold: |sum - 1| > 1e-9 (floating point only); any offending row fails (ERROR).
with

rows_ as (
    select
        snapshot_date,
        product,
        currency,
        from_bucket,
        sum(share_of_row_accounts) as share_accounts,
        sum(share_of_row_balance) as share_balance,
        sum(balance) as row_balance
    from roll_rates
    where snapshot_date between $start_date and $end_date
    group by all
),

final as (
    select *
    from rows_
    where abs(share_accounts - 1) > 1e-9
        or (row_balance > 0 and abs(share_balance - 1) > 1e-9)
)

select * from final
