-- account_feature_state as of $night, rebuilt from the 180-day window of snapshots: the first
-- night, a night whose previous state is missing, or one after an earlier night was re-landed.
-- The same state the nightly carry (carry_account_feature_state.sql) reaches night by night.
-- A large book runs it once per customer range (as the windowed account_features.sql).
{#- the end date of each run of snapshots at or above the threshold, in date order #}
{%- macro run_ends(threshold) -%}
list(snapshot_date order by snapshot_date) filter (
            where days_past_due >= {{ threshold }}
            and (next_dpd is null or next_dpd < {{ threshold }})
        )
{%- endmacro %}
with

window_rows as (
    select
        account_id,
        customer_id,
        snapshot_date,
        days_past_due,
        status,
        credit_limit,
        balance,
        amount_due,
        payment_amount,
        max(days_past_due) over later as later_max_dpd,
        lead(days_past_due) over by_date as next_dpd,
        lag(snapshot_date) over by_date as previous_date,
        lag(days_past_due) over by_date as previous_dpd,
        lag(credit_limit) over by_date as previous_limit,
        snapshot_date - cast(row_number() over by_date as integer) as present_run
    from account_snapshots
    where
        snapshot_date between cast($night as date) - 179 and cast($night as date)
        {%- if customer_from is defined and customer_from %}
        and customer_id >= $customer_from
        {%- endif %}
        {%- if customer_to is defined and customer_to %}
        and customer_id < $customer_to
        {%- endif %}
    window
        by_date as (partition by account_id order by snapshot_date),
        later as (
            partition by account_id order by snapshot_date
            rows between 1 following and unbounded following
        )
),

present_runs as (
    select
        account_id,
        list({'first_date': first_date, 'last_date': last_date} order by first_date) as present
    from (
        select account_id, min(snapshot_date) as first_date, max(snapshot_date) as last_date
        from window_rows
        group by account_id, present_run
    )
    group by account_id
),

accounts as (
    select
        account_id,
        arg_max(customer_id, snapshot_date) as customer_id,
        max(snapshot_date) as last_date,
        arg_max(days_past_due, snapshot_date) as last_dpd,
        arg_max(credit_limit, snapshot_date) as last_limit,
        max(snapshot_date) filter (where days_past_due > 0) as last_delinquent,
        list({'on_date': snapshot_date, 'dpd': days_past_due} order by snapshot_date) filter (
            where later_max_dpd is null or days_past_due > later_max_dpd
        ) as dpd_peaks,
        {{ run_ends(1) }} as runs_1plus,
        {{ run_ends(31) }} as runs_31plus,
        {{ run_ends(61) }} as runs_61plus,
        list(previous_date order by snapshot_date) filter (
            where days_past_due = 0 and previous_dpd > 0
        ) as cures,
        list(previous_date order by snapshot_date) filter (
            where credit_limit <> previous_limit
        ) as limit_changes,
        list(snapshot_date order by snapshot_date) filter (
            where snapshot_date > cast($night as date) - 90
            and payment_amount > 0 and days_past_due > 0
        ) as partial_payments,
        list({'on_date': snapshot_date, 'amount': payment_amount} order by snapshot_date) filter (
            where payment_amount > 0
        ) as payments,
        arg_max(
            {'on_date': snapshot_date, 'balance': balance, 'credit_limit': credit_limit},
            snapshot_date
        ) filter (where snapshot_date <= cast($night as date) - 30) as at_30d,
        arg_max(
            {'on_date': snapshot_date, 'balance': balance, 'credit_limit': credit_limit},
            snapshot_date
        ) filter (where snapshot_date <= cast($night as date) - 90) as at_90d,
        arg_max(
            {
                'on_date': snapshot_date,
                'amount_due': amount_due,
                'days_past_due': days_past_due,
                'status': status
            },
            snapshot_date
        ) filter (where snapshot_date <= one_month_earlier(cast($night as date))) as at_month
    from window_rows
    group by account_id
)

select
    cast($night as date) as state_night,
    accounts.account_id,
    accounts.customer_id,
    accounts.last_date,
    accounts.last_dpd,
    accounts.last_limit,
    accounts.last_delinquent,
    accounts.dpd_peaks,
    coalesce(accounts.runs_1plus, []) as runs_1plus,
    coalesce(accounts.runs_31plus, []) as runs_31plus,
    coalesce(accounts.runs_61plus, []) as runs_61plus,
    coalesce(accounts.cures, []) as cures,
    coalesce(accounts.limit_changes, []) as limit_changes,
    coalesce(accounts.partial_payments, []) as partial_payments,
    present_runs.present,
    coalesce(accounts.payments, []) as payments,
    accounts.at_30d,
    accounts.at_90d,
    accounts.at_month
from accounts
inner join present_runs on accounts.account_id = present_runs.account_id
