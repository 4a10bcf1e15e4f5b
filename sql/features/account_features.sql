-- Account-level credit-quality features, the delinquency model's inputs (DOMAIN.md §1-3).
-- Grain: one row per (snapshot_date, account_id) for every account in account_snapshots on each
-- night in [$start_date, $end_date]; a night is a distinct snapshot_date in that range, so daily
-- books and month-end-only books both work. An account absent on a night has no row that night.
-- Windows: "within N days" means dated in (night - N days, night]. Every row read is dated at or
-- before its night (no look-ahead: landing_date too, for the feeds that have one) and within the
-- 180 days before it (macro months: those overlapping them), so a night costs the same however
-- long the history grows, and a range of nights gives what the nights give one by one.
-- Events: a contact event belongs to the night whose file carried it (contact_events.landing_date):
-- it is seen from that night on and its 90/180-day windows are measured from that date (the
-- contract keeps event_time at or before the end of that night). event_time only orders a
-- dispute's openings and closings. A late file therefore never changes an earlier night.
-- Plan: one hash aggregate over nights x (each account's snapshots in the night's window). The
-- consecutive-snapshot counts (entries, cures, limit changes) need each snapshot's predecessor, so
-- only accounts whose DPD or limit moved in a window are sorted by date. RANGE-frame windows over
-- all snapshots were measured 4x+ slower for one night: they sort every snapshot of every account.
-- Needs the macros of sql/shared/macros/. No protected attribute is read or output.
--
-- Columns:
--   snapshot_date: the night (the snapshot's date)
--   account_id: the account
--   customer_id: the account's holder on tonight's snapshot
--   product: product on tonight's snapshot (e.g. revolving, installment)
--   status: status on tonight's snapshot (open, closed, frozen, charged_off)
--   currency: ISO 4217 currency of the amounts
--   bucket: delinquency bucket tonight, delinquency_bucket(days_past_due, status): M0-M6 or WO
--   days_past_due: days past due tonight
--   balance: total outstanding tonight
--   credit_limit: credit limit tonight
--   past_due_amount: amount past due tonight
--   utilisation: balance / credit_limit; with a 0 limit, 0 when the balance is 0 else 1 (fully drawn); over-limit (> 1) is kept
--   past_due_ratio: past_due_amount / balance; 0 when the balance is 0
--   payment_ratio: payments since one_month_earlier(night) (payment_amount of the snapshots dated in (one_month_earlier(night), night]) / amount_due on the latest snapshot at or before one_month_earlier(night) within 180 days; null when that amount is 0 or there is no such snapshot
--   days_since_last_payment: night - last_payment_date on tonight's snapshot; null when never paid
--   days_until_due: next_due_date - night on tonight's snapshot (negative once the date has passed); null when no payment is scheduled
--   amount_due_ratio: amount_due / balance on tonight's snapshot; 0 when the balance is 0
--   max_dpd_30d: max days_past_due over the account's snapshots within 30 days
--   max_dpd_90d: max days_past_due over the account's snapshots within 90 days
--   max_dpd_180d: max days_past_due over the account's snapshots within 180 days
--   times_30plus_180d: entries into >= 31 DPD within 180 days: snapshots at >= 31 whose previous snapshot of the account was below 31, or that are the account's first snapshot in the window
--   times_60plus_180d: entries into >= 61 DPD within 180 days, counted as times_30plus_180d
--   days_since_delinquent: night - date of the latest snapshot with DPD > 0 within 180 days; 0 when delinquent tonight; null when none
--   on_time_cycles: clean days // 30, capped at 6; clean days = night - the latest snapshot with DPD > 0 within 180 days, or when none, the days from the first snapshot in the window to the night counting both (a full clean window of daily snapshots gives 6)
--   cures_180d: transitions from DPD > 0 to DPD = 0 between consecutive snapshots of the account, both within 180 days
--   delinquency_entries_180d: entries into DPD >= 1 (missed due dates) within 180 days, counted as times_30plus_180d
--   partial_payments_90d: snapshots within 90 days with payment_amount > 0 that still have DPD > 0 (a payment that did not bring the account current)
--   bucket_1m_ago: bucket on the latest snapshot in [one_month_earlier(night) - 3 days, one_month_earlier(night)]: the snapshot exactly a month ago, else the nearest up to 3 days before it (a missed night); null when none
--   roll_state: the first that holds: new (no bucket_1m_ago), closed (status closed tonight), stayed (same bucket), cured (to M0), rolled_forward (worse by bucket_rank), rolled_back (better, not M0)
--   balance_change_30d: balance tonight - balance on the latest snapshot at or before night - 30 days, within 180 days; null when none
--   balance_change_90d: balance tonight - balance on the latest snapshot at or before night - 90 days, within 180 days; null when none
--   utilisation_change_30d: utilisation tonight - utilisation on the latest snapshot at or before night - 30 days, within 180 days; null when none
--   utilisation_change_90d: utilisation tonight - utilisation on the latest snapshot at or before night - 90 days, within 180 days; null when none
--   limit_changes_180d: times credit_limit differs from the account's previous snapshot, both within 180 days
--   months_on_book: date_diff('month', open_date, night): calendar-month boundaries crossed since opening (31 Jan to 1 Feb is 1), the MOB of vintage curves
--   annual_interest_rate: the contract's annual interest rate on tonight's snapshot as a share (landing format 1.1; a lender prices by underwriting grade); null when not sent or not a number
--   other_accounts_max_dpd_180d: the largest max_dpd_180d among the customer's other accounts tonight; null when the customer has no other account tonight
--   open_dispute: the latest dispute event within 180 days of the customer (account_id null) or of this account is a dispute_opened (by event_time; a closing at the same instant wins)
--   broken_promises_90d: promise_to_pay events within 180 days of this account (or of the customer, account_id null) with until_date in (night - 90 days, night) and amount above the payments (payment_amount of snapshots dated in (event night, until_date]) of this account (of all the customer's accounts when account_id is null)
--   complaints_90d: complaint events of the customer within 90 days
--   call_attempts_30d: collection calls (call_attempt and call_connected events: one per dial, the dial that connected logged as call_connected) of this account (or of the customer, account_id null) within 30 days
--   calls_connected_30d: call_connected events of this account (or of the customer) within 30 days
--   call_connect_rate_180d: call_connected / (call_attempt + call_connected) events of this account (or of the customer) within 180 days; null when no call
--   days_since_connected_call: night - the latest event night of a call_connected of this account (or of the customer) within 180 days; null when none
--   promise_pending: a promise_to_pay of this account (or of the customer) landed within 30 days whose until_date is on or after the night
--   customer_deceased: a deceased event of the customer within 180 days
--   customer_bankrupt: a bankruptcy event of the customer within 180 days
--   do_not_contact: a do_not_contact event of the customer within 180 days
--   phone_opt_out: an opt_out event on the phone channel of the customer within 180 days
--   unemployment_rate: national (region null) unemployment_rate of the latest month at or before the night's month, among months overlapping the 180 days and landed by the night (a later landing of a month replaces it); null when none
--   cpi_yoy: national (region null) cpi_yoy of that same month; null when none
--   bureau_score: the customer's bureau_score with the latest score_date within 180 days, landed by the night (ties: later landing, then bureau name); null when none
with

-- ------------------------------------------------------------------ nights and their windows
nights as materialized (
    select
        snapshot_date as night,
        snapshot_date - 179 as window_start,
        snapshot_date - 89 as window_start_90d,
        snapshot_date - 29 as window_start_30d,
        snapshot_date - 30 as days_30_ago,
        snapshot_date - 90 as days_90_ago,
        one_month_earlier(snapshot_date) as month_ago,
        one_month_earlier(snapshot_date) - 3 as month_ago_earliest
    from account_snapshots
    where snapshot_date between cast($start_date as date) and cast($end_date as date)
    group by snapshot_date
),

history as not materialized (
    select
        snapshot_date,
        account_id,
        customer_id,
        product,
        open_date,
        status,
        currency,
        credit_limit,
        balance,
        amount_due,
        past_due_amount,
        days_past_due,
        payment_amount,
        last_payment_date,
        next_due_date,
        annual_interest_rate
    from account_snapshots
    where
        snapshot_date between cast($start_date as date) - 179 and cast($end_date as date)
        {%- if customer_from is defined and customer_from %}
        and customer_id >= $customer_from
        {%- endif %}
        {%- if customer_to is defined and customer_to %}
        and customer_id < $customer_to
        {%- endif %}
),

tonight as (
    select
        *,
        delinquency_bucket(days_past_due, status) as bucket,
        utilisation(balance, credit_limit) as utilisation
    from history
    where snapshot_date >= cast($start_date as date)
),

-- ------------------------------------------------------------------ each account's window
window_stats as materialized (
    select
        nights.night,
        history.account_id,
        -- delinquency
        max(history.days_past_due) filter (
            where history.snapshot_date >= nights.window_start_30d
        ) as max_dpd_30d,
        max(history.days_past_due) filter (
            where history.snapshot_date >= nights.window_start_90d
        ) as max_dpd_90d,
        max(history.days_past_due) as max_dpd_180d,
        max(history.snapshot_date) filter (
            where history.days_past_due > 0
        ) as last_delinquent_date,
        min(history.snapshot_date) as first_date_in_window,
        -- payments
        sum(history.payment_amount) filter (
            where history.snapshot_date > nights.month_ago
        ) as payments_since_month_ago,
        arg_max(history.amount_due, history.snapshot_date) filter (
            where history.snapshot_date <= nights.month_ago
        ) as amount_due_month_ago,
        -- one month earlier
        arg_max(history.days_past_due, history.snapshot_date) filter (
            where history.snapshot_date between nights.month_ago_earliest and nights.month_ago
        ) as days_past_due_1m_ago,
        arg_max(history.status, history.snapshot_date) filter (
            where history.snapshot_date between nights.month_ago_earliest and nights.month_ago
        ) as status_1m_ago,
        -- trends
        arg_max(history.balance, history.snapshot_date) filter (
            where history.snapshot_date <= nights.days_30_ago
        ) as balance_30d_ago,
        arg_max(history.balance, history.snapshot_date) filter (
            where history.snapshot_date <= nights.days_90_ago
        ) as balance_90d_ago,
        arg_max(history.credit_limit, history.snapshot_date) filter (
            where history.snapshot_date <= nights.days_30_ago
        ) as credit_limit_30d_ago,
        arg_max(history.credit_limit, history.snapshot_date) filter (
            where history.snapshot_date <= nights.days_90_ago
        ) as credit_limit_90d_ago,
        count(*) filter (
            where history.snapshot_date >= nights.window_start_90d
            and history.payment_amount > 0
            and history.days_past_due > 0
        ) as partial_payments_90d,
        min(history.credit_limit) <> max(history.credit_limit) as limit_moved
    from nights
    inner join history
        on history.snapshot_date between nights.window_start and nights.night
    group by nights.night, history.account_id
),

-- ------------------------------------------------------------------ consecutive-snapshot counts
-- Only accounts delinquent or with a limit change on some night can count anything: sort just them.
moving_accounts as (
    select distinct account_id
    from window_stats
    where max_dpd_180d > 0 or limit_moved
),

sequenced as (
    select
        history.account_id,
        history.snapshot_date,
        history.days_past_due,
        history.credit_limit,
        lag(history.snapshot_date) over by_date as previous_date,
        lag(history.days_past_due) over by_date as previous_dpd,
        lag(history.credit_limit) over by_date as previous_limit
    from history
    semi join moving_accounts on history.account_id = moving_accounts.account_id
    window by_date as (partition by history.account_id order by history.snapshot_date)
),

transitions as (
    -- an entry: at or above the threshold, with the previous snapshot below it or before the
    -- window (so the first snapshot in the window counts when it is already at or above)
    select
        nights.night,
        sequenced.account_id,
        count(*) filter (
            where sequenced.days_past_due >= 31
            and (
                sequenced.previous_date is null
                or sequenced.previous_date < nights.window_start
                or sequenced.previous_dpd < 31
            )
        ) as times_30plus_180d,
        count(*) filter (
            where sequenced.days_past_due >= 61
            and (
                sequenced.previous_date is null
                or sequenced.previous_date < nights.window_start
                or sequenced.previous_dpd < 61
            )
        ) as times_60plus_180d,
        count(*) filter (
            where sequenced.days_past_due >= 1
            and (
                sequenced.previous_date is null
                or sequenced.previous_date < nights.window_start
                or sequenced.previous_dpd < 1
            )
        ) as delinquency_entries_180d,
        count(*) filter (
            where sequenced.days_past_due = 0
            and sequenced.previous_dpd > 0
            and sequenced.previous_date >= nights.window_start
        ) as cures_180d,
        count(*) filter (
            where sequenced.credit_limit <> sequenced.previous_limit
            and sequenced.previous_date >= nights.window_start
        ) as limit_changes_180d
    from nights
    inner join sequenced
        on sequenced.snapshot_date between nights.window_start and nights.night
    group by nights.night, sequenced.account_id
),

{#- the rest, shared with account_features_from_state.sql: account_features_tail.sql #}
{%- set first_night = "cast($start_date as date)" %}
{%- set last_night = "cast($end_date as date)" %}
{%- set delinquency_counts = "transitions" %}
{%- set promise_payments -%}
promise_payments as (
    select
        promises.event_id,
        coalesce(sum(history.payment_amount), 0) as paid
    from events as promises
    left join history
        on
            history.customer_id = promises.customer_id
            and (promises.account_id is null or history.account_id = promises.account_id)
            and history.snapshot_date > promises.event_night
            and history.snapshot_date <= promises.until_date
    where promises.event_type = 'promise_to_pay' and promises.until_date < cast($end_date as date)
    group by promises.event_id
),
{%- endset %}
{%- set other_accounts_max_dpd_180d -%}
greatest(
            max(window_features.max_dpd_180d) over earlier_accounts,
            max(window_features.max_dpd_180d) over later_accounts
        )
{%- endset %}
{%- set final_joins -%}
from tonight
    inner join window_features
        on
            tonight.snapshot_date = window_features.night
            and tonight.account_id = window_features.account_id
    left join transitions
        on
            tonight.snapshot_date = transitions.night
            and tonight.account_id = transitions.account_id
    left join account_events
        on
            tonight.snapshot_date = account_events.snapshot_date
            and tonight.account_id = account_events.account_id
    left join macro_as_of on tonight.snapshot_date = macro_as_of.night
    left join bureau_as_of
        on
            tonight.snapshot_date = bureau_as_of.snapshot_date
            and tonight.customer_id = bureau_as_of.customer_id
    window
        earlier_accounts as (
            partition by tonight.snapshot_date, tonight.customer_id order by tonight.account_id
            rows between unbounded preceding and 1 preceding
        ),
        later_accounts as (
            partition by tonight.snapshot_date, tonight.customer_id order by tonight.account_id
            rows between 1 following and unbounded following
        )
{%- endset %}

{% include 'features/account_features_tail.sql' -%}
