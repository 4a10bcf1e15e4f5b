-- account_features for one night ($night) from the carried account_feature_state of that night
-- (carry_account_feature_state.sql or account_feature_state_from_history.sql): the same columns
-- and definitions as the windowed account_features.sql (its header is the data dictionary), and
-- the same values, with tonight's snapshot and the state read instead of 180 days of snapshots.
-- The contact events, macro and bureau joins are those of account_features.sql; a promise's
-- payments come from the state's payment lists.
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
        -- a 0 limit is unused with no balance (0) and fully drawn with one (1)
        cast(coalesce(balance / nullif(credit_limit, 0), sign(balance)) as double) as utilisation
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

window_features as (
    select
        *,
        case
            when days_past_due_1m_ago is not null
                then delinquency_bucket(days_past_due_1m_ago, status_1m_ago)
        end as bucket_1m_ago,
        cast(
            coalesce(balance_30d_ago / nullif(credit_limit_30d_ago, 0), sign(balance_30d_ago))
            as double
        ) as utilisation_30d_ago,
        cast(
            coalesce(balance_90d_ago / nullif(credit_limit_90d_ago, 0), sign(balance_90d_ago))
            as double
        ) as utilisation_90d_ago
    from window_stats
),

events as (
    select
        event_id,
        landing_date as event_night,
        event_time,
        customer_id,
        account_id,
        event_type,
        channel,
        amount,
        until_date
    from contact_events
    where
        landing_date between cast($night as date) - 179 and cast($night as date)
),


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

account_events as (
    select
        tonight.snapshot_date,
        tonight.account_id,
        count(*) filter (
            where events.event_type = 'complaint'
            and events.event_night > tonight.snapshot_date - 90
        ) as complaints_90d,
        count(*) filter (
            where events.event_type = 'promise_to_pay'
            and (events.account_id is null or events.account_id = tonight.account_id)
            and events.until_date > tonight.snapshot_date - 90
            and events.until_date < tonight.snapshot_date
            and promise_payments.paid < events.amount
        ) as broken_promises_90d,
        arg_max(
            events.event_type = 'dispute_opened',
            {
                'event_time': events.event_time,
                'closing': events.event_type = 'dispute_closed',
                'event_night': events.event_night
            }
        ) filter (
            where events.event_type in ('dispute_opened', 'dispute_closed')
            and (events.account_id is null or events.account_id = tonight.account_id)
        ) as open_dispute,
        count(*) filter (
            where events.event_type in ('call_attempt', 'call_connected')
            and (events.account_id is null or events.account_id = tonight.account_id)
            and events.event_night > tonight.snapshot_date - 30
        ) as call_attempts_30d,
        count(*) filter (
            where events.event_type = 'call_connected'
            and (events.account_id is null or events.account_id = tonight.account_id)
            and events.event_night > tonight.snapshot_date - 30
        ) as calls_connected_30d,
        count(*) filter (
            where events.event_type in ('call_attempt', 'call_connected')
            and (events.account_id is null or events.account_id = tonight.account_id)
        ) as calls_180d,
        count(*) filter (
            where events.event_type = 'call_connected'
            and (events.account_id is null or events.account_id = tonight.account_id)
        ) as calls_connected_180d,
        max(events.event_night) filter (
            where events.event_type = 'call_connected'
            and (events.account_id is null or events.account_id = tonight.account_id)
        ) as last_connected_night,
        coalesce(bool_or(
            events.event_type = 'promise_to_pay'
            and (events.account_id is null or events.account_id = tonight.account_id)
            and events.event_night > tonight.snapshot_date - 30
            and events.until_date >= tonight.snapshot_date
        ), false) as promise_pending,
        coalesce(bool_or(events.event_type = 'deceased'), false) as customer_deceased,
        coalesce(bool_or(events.event_type = 'bankruptcy'), false) as customer_bankrupt,
        coalesce(bool_or(events.event_type = 'do_not_contact'), false) as do_not_contact,
        coalesce(bool_or(events.event_type = 'opt_out' and events.channel = 'phone'), false)
            as phone_opt_out
    from tonight
    inner join events
        on
            events.customer_id = tonight.customer_id
            and events.event_night between tonight.snapshot_date - 179 and tonight.snapshot_date
    left join promise_payments on events.event_id = promise_payments.event_id
    group by tonight.snapshot_date, tonight.account_id
),

-- ------------------------------------------------------------------ external data, as of the night
national_macro as (
    select
        landing_date,
        source_row,
        unemployment_rate,
        cpi_yoy,
        cast(date_trunc('month', month) as date) as month_start
    from macro_indicators
    where region is null
),

macro_as_of as (
    select
        nights.night,
        arg_max(
            national_macro.unemployment_rate,
            {
                'month': national_macro.month_start,
                'landing_date': national_macro.landing_date,
                'row': national_macro.source_row
            }
        ) as unemployment_rate,
        arg_max(
            national_macro.cpi_yoy,
            {
                'month': national_macro.month_start,
                'landing_date': national_macro.landing_date,
                'row': national_macro.source_row
            }
        ) as cpi_yoy
    from nights
    inner join national_macro
        on
            national_macro.landing_date <= nights.night
            and national_macro.month_start <= nights.night
            and national_macro.month_start >= cast(date_trunc('month', nights.window_start) as date)
    group by nights.night
),

scores as (
    select
        landing_date,
        source_row,
        customer_id,
        score_date,
        bureau_score,
        bureau
    from bureau_scores
    where
        score_date between cast($night as date) - 179 and cast($night as date)
        and landing_date <= cast($night as date)
),

customer_nights as (
    select distinct
        snapshot_date,
        customer_id
    from tonight
),

bureau_as_of as (
    select
        customer_nights.snapshot_date,
        customer_nights.customer_id,
        arg_max(
            scores.bureau_score,
            {
                'score_date': scores.score_date,
                'landing_date': scores.landing_date,
                'bureau': scores.bureau,
                'row': scores.source_row
            }
        ) as bureau_score
    from customer_nights
    inner join scores
        on
            customer_nights.customer_id = scores.customer_id
            and scores.landing_date <= customer_nights.snapshot_date
            and scores.score_date
            between customer_nights.snapshot_date - 179 and customer_nights.snapshot_date
    group by customer_nights.snapshot_date, customer_nights.customer_id
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

final as (
    select
        -- ids and context
        tonight.snapshot_date,
        tonight.account_id,
        tonight.customer_id,
        tonight.product,
        tonight.status,
        tonight.currency,

        -- tonight's position
        tonight.bucket,
        tonight.days_past_due,
        tonight.balance,
        tonight.credit_limit,
        tonight.past_due_amount,
        tonight.utilisation,
        case
            when tonight.balance > 0 then cast(tonight.past_due_amount / tonight.balance as double)
            else 0.0
        end as past_due_ratio,

        -- payments
        cast(
            window_features.payments_since_month_ago
            / nullif(window_features.amount_due_month_ago, 0) as double
        ) as payment_ratio,
        tonight.snapshot_date - tonight.last_payment_date as days_since_last_payment,
        tonight.next_due_date - tonight.snapshot_date as days_until_due,
        case
            when tonight.balance > 0 then cast(tonight.amount_due / tonight.balance as double)
            else 0.0
        end as amount_due_ratio,

        -- delinquency history
        window_features.max_dpd_30d,
        window_features.max_dpd_90d,
        window_features.max_dpd_180d,
        coalesce(window_features.times_30plus_180d, 0) as times_30plus_180d,
        coalesce(window_features.times_60plus_180d, 0) as times_60plus_180d,
        tonight.snapshot_date - window_features.last_delinquent_date as days_since_delinquent,
        least(
            6,
            coalesce(
                tonight.snapshot_date - window_features.last_delinquent_date,
                tonight.snapshot_date - window_features.first_date_in_window + 1
            ) // 30
        ) as on_time_cycles,
        coalesce(window_features.cures_180d, 0) as cures_180d,
        coalesce(window_features.delinquency_entries_180d, 0) as delinquency_entries_180d,
        window_features.partial_payments_90d,

        -- roll from one month earlier
        window_features.bucket_1m_ago,
        case
            when window_features.bucket_1m_ago is null then 'new'
            when tonight.status = 'closed' then 'closed'
            when tonight.bucket = window_features.bucket_1m_ago then 'stayed'
            when tonight.bucket = 'M0' then 'cured'
            when bucket_rank(tonight.bucket) > bucket_rank(window_features.bucket_1m_ago)
                then 'rolled_forward'
            else 'rolled_back'
        end as roll_state,

        -- trends
        tonight.balance - window_features.balance_30d_ago as balance_change_30d,
        tonight.balance - window_features.balance_90d_ago as balance_change_90d,
        tonight.utilisation - window_features.utilisation_30d_ago as utilisation_change_30d,
        tonight.utilisation - window_features.utilisation_90d_ago as utilisation_change_90d,
        coalesce(window_features.limit_changes_180d, 0) as limit_changes_180d,
        date_diff('month', tonight.open_date, tonight.snapshot_date) as months_on_book,
        try_cast(tonight.annual_interest_rate as double) as annual_interest_rate,
        case
            when customer_peaks.accounts = 1 then null
            when window_features.max_dpd_180d = customer_peaks.top[1] then customer_peaks.top[2]
            else customer_peaks.top[1]
        end as other_accounts_max_dpd_180d,

        -- contact events
        coalesce(account_events.open_dispute, false) as open_dispute,
        coalesce(account_events.broken_promises_90d, 0) as broken_promises_90d,
        coalesce(account_events.complaints_90d, 0) as complaints_90d,
        coalesce(account_events.call_attempts_30d, 0) as call_attempts_30d,
        coalesce(account_events.calls_connected_30d, 0) as calls_connected_30d,
        cast(
            account_events.calls_connected_180d / nullif(account_events.calls_180d, 0) as double
        ) as call_connect_rate_180d,
        tonight.snapshot_date - account_events.last_connected_night as days_since_connected_call,
        coalesce(account_events.promise_pending, false) as promise_pending,
        coalesce(account_events.customer_deceased, false) as customer_deceased,
        coalesce(account_events.customer_bankrupt, false) as customer_bankrupt,
        coalesce(account_events.do_not_contact, false) as do_not_contact,
        coalesce(account_events.phone_opt_out, false) as phone_opt_out,

        -- external data
        macro_as_of.unemployment_rate,
        macro_as_of.cpi_yoy,
        bureau_as_of.bureau_score
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
)

select * from final
