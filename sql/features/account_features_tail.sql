{#- The end of the account_features statement, included by account_features.sql (a range of
nights, from snapshots) and account_features_from_state.sql (one night, from the carried state)
so that both compute these columns one way: the look-back values derived from window_stats, the
contact events, the macro and bureau figures as of the night, and the final projection in the
column order of account_features.sql's header (the data dictionary). The including file defines
the CTEs nights (night, window_start), tonight and window_stats, and sets:
  first_night, last_night: SQL dates bounding its nights
  promise_payments: the CTE of each promise's payments (event_id, paid), read from events
  delinquency_counts: the relation holding times_30plus_180d, times_60plus_180d, cures_180d,
    delinquency_entries_180d and limit_changes_180d (null when an account counted nothing)
  other_accounts_max_dpd_180d: that column's expression
  final_joins: final's from clause (tonight joined to the relations above) and its windows
A Jinja comment, so the rendered statement carries only the including file's header. -#}
window_features as (
    select
        *,
        case
            when days_past_due_1m_ago is not null
                then delinquency_bucket(days_past_due_1m_ago, status_1m_ago)
        end as bucket_1m_ago,
        utilisation(balance_30d_ago, credit_limit_30d_ago) as utilisation_30d_ago,
        utilisation(balance_90d_ago, credit_limit_90d_ago) as utilisation_90d_ago
    from window_stats
),

-- ------------------------------------------------------------------ contact events
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
        landing_date between {{ first_night }} - 179 and {{ last_night }}
),

{{ promise_payments }}

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
        score_date between {{ first_night }} - 179 and {{ last_night }}
        and landing_date <= {{ last_night }}
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
        coalesce({{ delinquency_counts }}.times_30plus_180d, 0) as times_30plus_180d,
        coalesce({{ delinquency_counts }}.times_60plus_180d, 0) as times_60plus_180d,
        tonight.snapshot_date - window_features.last_delinquent_date as days_since_delinquent,
        least(
            6,
            coalesce(
                tonight.snapshot_date - window_features.last_delinquent_date,
                tonight.snapshot_date - window_features.first_date_in_window + 1
            ) // 30
        ) as on_time_cycles,
        coalesce({{ delinquency_counts }}.cures_180d, 0) as cures_180d,
        coalesce({{ delinquency_counts }}.delinquency_entries_180d, 0) as delinquency_entries_180d,
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
        coalesce({{ delinquency_counts }}.limit_changes_180d, 0) as limit_changes_180d,
        date_diff('month', tonight.open_date, tonight.snapshot_date) as months_on_book,
        try_cast(tonight.annual_interest_rate as double) as annual_interest_rate,
        {{ other_accounts_max_dpd_180d }} as other_accounts_max_dpd_180d,

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
    {{ final_joins }}
)

select * from final
