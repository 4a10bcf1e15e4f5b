-- account_feature_state as of $night = the state as of $previous_night (the book's previous night)
-- folded with tonight's snapshot and the snapshots that tonight's 30-day, 90-day and one-month
-- look-backs newly reach (one night each when nights are consecutive): a night's cost depends on
-- the book, not on how long its history is. Accounts absent tonight keep their lists; an account
-- with no snapshot in the window is dropped (its next snapshot starts afresh, as the window would).
-- $month_ago / $previous_month_ago: one_month_earlier of the two nights (look_back_dates.sql);
-- one_night: every look-back range holds at most one date (consecutive nights).
-- account_from / account_to: one [from, to) range of account ids per pass on a large book (every
-- row read is the account's own, so the ranges are independent; feature_state.account_ranges).
{#- runs_<threshold>plus (the end date of each run of snapshots at or above the threshold) carried
one night: tonight at or above it ends a run there (a run that reached last night ends tonight
instead); ends before the window are dropped #}
{%- macro carried_runs(threshold) -%}
case
            when days_past_due < {{ threshold }} and len(runs_{{ threshold }}plus) = 0
                then runs_{{ threshold }}plus
            when days_past_due >= {{ threshold }} then list_append(
                list_filter(runs_{{ threshold }}plus,
                    lambda r: r >= window_start and (last_dpd < {{ threshold }} or r <> last_date)),
                night
            )
            else list_filter(runs_{{ threshold }}plus, lambda r: r >= window_start)
        end
{%- endmacro %}
{#- the pass's account range, on every read #}
{%- macro in_range() -%}
{%- if account_from is defined and account_from %}
        and account_id >= $account_from
{%- endif %}
{%- if account_to is defined and account_to %}
        and account_id < $account_to
{%- endif %}
{%- endmacro %}
{#- a list of event dates carried one night: `added` appended when `added_when` holds tonight,
then only the dates d for which `kept` holds (an empty list skips the filter) #}
{%- macro carried_dates(dates, added_when, added, kept) -%}
case
            when {{ added_when }}
                then list_filter(list_append({{ dates }}, {{ added }}), lambda d: {{ kept }})
            when len({{ dates }}) = 0 then {{ dates }}
            else list_filter({{ dates }}, lambda d: {{ kept }})
        end
{%- endmacro %}
with

previous as (
    select *
    from account_feature_state
    where state_night = cast($previous_night as date){{ in_range() }}
),

tonight as (
    select
        account_id,
        customer_id,
        days_past_due,
        credit_limit,
        payment_amount
    from account_snapshots
    where snapshot_date = cast($night as date){{ in_range() }}
),

{%- if one_night %}
-- consecutive nights: each look-back reaches one night, so an account has at most one row in it
look_backs as (
    select
        coalesce(at_30d.account_id, at_90d.account_id, at_month.account_id) as account_id,
        at_30d.at_30d,
        at_90d.at_90d,
        at_month.at_month
    from (
        select
            account_id,
            {'on_date': snapshot_date, 'balance': balance, 'credit_limit': credit_limit} as at_30d
        from account_snapshots
        where snapshot_date > cast($previous_night as date) - 30
            and snapshot_date <= cast($night as date) - 30{{ in_range() }}
    ) as at_30d
    full outer join (
        select
            account_id,
            {'on_date': snapshot_date, 'balance': balance, 'credit_limit': credit_limit} as at_90d
        from account_snapshots
        where snapshot_date > cast($previous_night as date) - 90
            and snapshot_date <= cast($night as date) - 90{{ in_range() }}
    ) as at_90d on at_30d.account_id = at_90d.account_id
    full outer join (
        select
            account_id,
            {
                'on_date': snapshot_date,
                'amount_due': amount_due,
                'days_past_due': days_past_due,
                'status': status
            } as at_month
        from account_snapshots
        where snapshot_date > cast($previous_month_ago as date)
            and snapshot_date <= cast($month_ago as date){{ in_range() }}
    ) as at_month on coalesce(at_30d.account_id, at_90d.account_id) = at_month.account_id
),
{%- else %}
reached as (
    select account_id, snapshot_date, balance, credit_limit, amount_due, days_past_due, status,
        'at_30d' as look_back
    from account_snapshots
    where snapshot_date > cast($previous_night as date) - 30
        and snapshot_date <= cast($night as date) - 30{{ in_range() }}
    union all
    select account_id, snapshot_date, balance, credit_limit, amount_due, days_past_due, status,
        'at_90d' as look_back
    from account_snapshots
    where snapshot_date > cast($previous_night as date) - 90
        and snapshot_date <= cast($night as date) - 90{{ in_range() }}
    union all
    select account_id, snapshot_date, balance, credit_limit, amount_due, days_past_due, status,
        'at_month' as look_back
    from account_snapshots
    where snapshot_date > cast($previous_month_ago as date)
        and snapshot_date <= cast($month_ago as date){{ in_range() }}
),

look_backs as (
    select
        account_id,
        arg_max(
            {'on_date': snapshot_date, 'balance': balance, 'credit_limit': credit_limit},
            snapshot_date
        ) filter (where look_back = 'at_30d') as at_30d,
        arg_max(
            {'on_date': snapshot_date, 'balance': balance, 'credit_limit': credit_limit},
            snapshot_date
        ) filter (where look_back = 'at_90d') as at_90d,
        arg_max(
            {
                'on_date': snapshot_date,
                'amount_due': amount_due,
                'days_past_due': days_past_due,
                'status': status
            },
            snapshot_date
        ) filter (where look_back = 'at_month') as at_month
    from reached
    group by account_id
),
{%- endif %}

joined as (
    select
        coalesce(tonight.account_id, previous.account_id, look_backs.account_id) as account_id,
        tonight.account_id is not null as seen,
        tonight.customer_id,
        tonight.days_past_due,
        tonight.credit_limit,
        tonight.payment_amount,
        previous.customer_id as previous_customer_id,
        previous.last_date,
        previous.last_dpd,
        previous.last_limit,
        previous.last_delinquent,
        coalesce(previous.dpd_peaks, []) as dpd_peaks,
        coalesce(previous.runs_1plus, []) as runs_1plus,
        coalesce(previous.runs_31plus, []) as runs_31plus,
        coalesce(previous.runs_61plus, []) as runs_61plus,
        coalesce(previous.cures, []) as cures,
        coalesce(previous.limit_changes, []) as limit_changes,
        coalesce(previous.partial_payments, []) as partial_payments,
        coalesce(previous.present, []) as present,
        coalesce(previous.payments, []) as payments,
        coalesce(look_backs.at_30d, previous.at_30d) as at_30d,
        coalesce(look_backs.at_90d, previous.at_90d) as at_90d,
        coalesce(look_backs.at_month, previous.at_month) as at_month,
        cast($night as date) as night,
        cast($night as date) - 179 as window_start
    from tonight
    full outer join previous on tonight.account_id = previous.account_id
    full outer join look_backs
        on coalesce(tonight.account_id, previous.account_id) = look_backs.account_id
),

carried as (
    select
        account_id,
        previous_customer_id as customer_id,
        last_date,
        last_dpd,
        last_limit,
        last_delinquent,
        dpd_peaks,
        runs_1plus,
        runs_31plus,
        runs_61plus,
        cures,
        limit_changes,
        partial_payments,
        present,
        payments,
        at_30d,
        at_90d,
        at_month
    from joined
    where not seen and last_date >= window_start
),

folded as (
    select
        account_id,
        customer_id,
        night as last_date,
        days_past_due as last_dpd,
        credit_limit as last_limit,
        case when days_past_due > 0 then night else last_delinquent end as last_delinquent,
        case
            when len(dpd_peaks) = 1 and dpd_peaks[1].dpd <= days_past_due
                then [{'on_date': night, 'dpd': days_past_due}]
            else list_append(
                list_filter(dpd_peaks,
                    lambda p: p.dpd > days_past_due and p.on_date >= window_start),
                {'on_date': night, 'dpd': days_past_due}
            )
        end as dpd_peaks,
        {{ carried_runs(1) }} as runs_1plus,
        {{ carried_runs(31) }} as runs_31plus,
        {{ carried_runs(61) }} as runs_61plus,
        {{ carried_dates("cures", added_when="days_past_due = 0 and last_dpd > 0",
            added="last_date", kept="d >= window_start") }} as cures,
        {{ carried_dates("limit_changes", added_when="credit_limit <> last_limit",
            added="last_date", kept="d >= window_start") }} as limit_changes,
        {{ carried_dates("partial_payments", added_when="payment_amount > 0 and days_past_due > 0",
            added="night", kept="d > night - 90") }} as partial_payments,
        case
            when last_date = night - 1 and len(present) = 1
                then [{'first_date': present[1].first_date, 'last_date': night}]
            when last_date = night - 1 then list_append(
                list_filter(present, lambda p: p.last_date >= window_start and p.last_date < last_date),
                {'first_date': present[-1].first_date, 'last_date': night}
            )
            else list_append(
                list_filter(present, lambda p: p.last_date >= window_start),
                {'first_date': night, 'last_date': night}
            )
        end as present,
        list_filter(
            case when payment_amount > 0
                then list_append(payments, {'on_date': night, 'amount': payment_amount})
                else payments end,
            lambda p: p.on_date >= window_start
        ) as payments,
        at_30d,
        at_90d,
        at_month
    from joined
    where seen
)

select cast($night as date) as state_night, * from folded
union all by name
select cast($night as date) as state_night, * from carried
