-- account_features for one night ($night) from the carried account_feature_state of that night
-- (carry_account_feature_state.sql or account_feature_state_from_history.sql): the same columns
-- and definitions as the windowed account_features.sql (its header is the data dictionary), and
-- the same values, with tonight's snapshot and the state read instead of 180 days of snapshots.
-- The look-back values, contact events, macro and bureau joins and the projection are
-- account_features.sql's (account_features_tail.sql, included by both); a promise's payments
-- come from the state's payment lists, other_accounts_max_dpd_180d from each customer's two peaks.
with

nights as materialized (
    select
        cast($night as date) as night,
        cast($night as date) - 179 as window_start,
        one_month_earlier(cast($night as date)) as month_ago
),

tonight as (
    select
        *,
        delinquency_bucket(days_past_due, status) as bucket,
        utilisation(balance, credit_limit) as utilisation
    from account_snapshots
    where snapshot_date = cast($night as date)
),

state as (
    select *
    from account_feature_state
    where state_night = cast($night as date)
),

window_stats as (
    select
        state.account_id,
        state.dpd_peaks[1].dpd as max_dpd_180d,
        list_filter(state.dpd_peaks, lambda p: p.on_date > nights.night - 30)[1].dpd as max_dpd_30d,
        list_filter(state.dpd_peaks, lambda p: p.on_date > nights.night - 90)[1].dpd as max_dpd_90d,
        case
            when state.last_delinquent >= nights.window_start then state.last_delinquent
        end as last_delinquent_date,
        greatest(state.present[1].first_date, nights.window_start) as first_date_in_window,
        coalesce(
            list_sum(list_transform(
                list_filter(state.payments, lambda p: p.on_date > nights.month_ago), lambda p: p.amount
            )),
            0
        )::decimal(38, 2) as payments_since_month_ago,
        case
            when state.at_month.on_date >= nights.window_start then state.at_month.amount_due
        end as amount_due_month_ago,
        case
            when state.at_month.on_date >= nights.month_ago - 3
                then state.at_month.days_past_due
        end as days_past_due_1m_ago,
        case
            when state.at_month.on_date >= nights.month_ago - 3 then state.at_month.status
        end as status_1m_ago,
        case when state.at_30d.on_date >= nights.window_start then state.at_30d.balance end
            as balance_30d_ago,
        case when state.at_90d.on_date >= nights.window_start then state.at_90d.balance end
            as balance_90d_ago,
        case when state.at_30d.on_date >= nights.window_start then state.at_30d.credit_limit end
            as credit_limit_30d_ago,
        case when state.at_90d.on_date >= nights.window_start then state.at_90d.credit_limit end
            as credit_limit_90d_ago,
        len(state.partial_payments) as partial_payments_90d,
        len(state.runs_31plus) as times_30plus_180d,
        len(state.runs_61plus) as times_60plus_180d,
        len(state.runs_1plus) as delinquency_entries_180d,
        len(state.cures) as cures_180d,
        len(state.limit_changes) as limit_changes_180d
    from state
    cross join nights
),

-- the two largest max_dpd_180d of each customer's accounts tonight: the largest of the others
customer_peaks as (
    select
        tonight.customer_id,
        count(*) as accounts,
        max(window_stats.max_dpd_180d, 2) as top
    from tonight
    inner join window_stats on tonight.account_id = window_stats.account_id
    group by tonight.customer_id
),

{%- set first_night = "cast($night as date)" %}
{%- set last_night = "cast($night as date)" %}
{%- set delinquency_counts = "window_features" %}
{%- set promise_payments -%}
promise_payments as (
    select
        promises.event_id,
        coalesce(sum(paid.amount), 0) as paid
    from events as promises
    left join (
        select state.customer_id, state.account_id, unnest(state.payments, recursive := true)
        from state
        semi join events
            on events.customer_id = state.customer_id and events.event_type = 'promise_to_pay'
    ) as paid
        on
            paid.customer_id = promises.customer_id
            and (promises.account_id is null or paid.account_id = promises.account_id)
            and paid.on_date > promises.event_night
            and paid.on_date <= promises.until_date
    where promises.event_type = 'promise_to_pay' and promises.until_date < cast($night as date)
    group by promises.event_id
),
{%- endset %}
{%- set other_accounts_max_dpd_180d -%}
case
            when customer_peaks.accounts = 1 then null
            when window_features.max_dpd_180d = customer_peaks.top[1] then customer_peaks.top[2]
            else customer_peaks.top[1]
        end
{%- endset %}
{%- set final_joins -%}
from tonight
    inner join window_features on tonight.account_id = window_features.account_id
    left join account_events
        on
            tonight.snapshot_date = account_events.snapshot_date
            and tonight.account_id = account_events.account_id
    inner join customer_peaks on tonight.customer_id = customer_peaks.customer_id
    left join macro_as_of on tonight.snapshot_date = macro_as_of.night
    left join bureau_as_of
        on
            tonight.snapshot_date = bureau_as_of.snapshot_date
            and tonight.customer_id = bureau_as_of.customer_id
{%- endset %}

{% include 'features/account_features_tail.sql' -%}
