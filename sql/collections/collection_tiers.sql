{%- set max_gap_days = 45 %}
-- Collection tier per open account and night (DOMAIN.md §4), set-wise for nights in
-- [$start_date, $end_date]. Grain: one row per (snapshot_date, account_id) of account_features
-- whose status is not closed.
-- Strategy as data: `tier_rules` (one row per rule, bucket and currency, first rule wins; a rule
-- with balance limits has a row per currency it names, null: any currency), `high_risk_rules`
-- (per bucket: top_share, min_probability or grades) and `suppression_rules` (reason, priority,
-- lookback_days) are registered by pipelines/lib/collections/tiering.py; $strategy_version is a
-- parameter.
-- Scores: `account_scores` when the table exists ({{ 'with' if has_scores else 'without' }} it in
-- this rendering); unscored accounts (probability null) have no rank, are never high risk and
-- never early warning, so tiering then runs on the delinquency bucket alone.
-- Events: a contact event counts from the night whose file carried it (landing_date) and for
-- lookback_days nights (null: any time on record). Customer-wide events (account_id null) apply
-- to every account of the customer; deceased, bankruptcy and do_not_contact always do.
-- Data: an account whose customer has no record landed by the night is held (no_customer_record).
-- Tier entry: the account's latest row before the nights carries its tier_since when it is in the
-- same tier and at most {{ max_gap_days }} days earlier, so nights without a row do not re-enter a tier
-- and a backfill and night-by-night runs agree.
-- Jurisdiction: the customer's country on the latest customers version landed by $end_date.
--
-- Columns:
--   snapshot_date: the night
--   account_id: the account
--   customer_id: the account's holder tonight
--   product: product tonight
--   currency: ISO 4217 currency of the amounts
--   status: account status tonight (open, frozen, charged_off)
--   bucket: delinquency bucket tonight (M0-M6, WO)
--   days_past_due: days past due tonight
--   balance: total outstanding tonight
--   credit_limit: credit limit tonight
--   past_due_amount: amount past due tonight
--   amount_due: amount due on the current statement and not yet paid
--   next_due_date: the next payment due date on tonight's snapshot
--   utilisation: balance / credit_limit (account_features)
--   risk_grade: account_scores.risk_grade (A lowest risk .. E); null when unscored
--   probability: account_scores.probability; null when unscored
--   early_warning: account_scores.early_warning; false when unscored
--   risk_rank_in_bucket: 1 = the highest probability among the night's scored accounts of the bucket (ties by account_id); null when unscored
--   scored_in_bucket: the night's scored accounts of the bucket (the rank's denominator)
--   high_risk_rule: the bucket's high-risk rule: top_share=<s> (high when risk_rank_in_bucket <= s x scored_in_bucket), min_probability=<p> or grades=<D,E>; null when the bucket has none
--   high_risk: scored and the bucket's high-risk rule holds; false when unscored or the bucket has no rule
--   model_version: the model that scored the account tonight; null when unscored
--   jurisdiction: the customer's country (CN, US, ...) selecting the contact rules
--   tier: T0-T5 by the first matching strategy rule; null for accounts no rule matches (current, low risk)
--   tier_rule: 0-based index of the matching rule in the strategy's tiers list; null with tier
--   treatment: the matching rule's treatment name (the tier's own unless the rule names another: early_reminder, early_warning_watch, soft_notice, early_high, early_high_automated, formal_demand, formal_demand_automated, final_notice, write_off_review)
--   early_warning_action: for an early-warning account, the treatment its flag leads to (early_reminder with a payment due within the window, else the strategy's watch); null for accounts not flagged, and for a flagged account no rule treats (the check assert_early_warnings_acted_on finds these); when a flagged account's contacts are not made, suppression_reason / channel_suppressions say why
--   tier_since: the first night of the account's current unbroken run in this tier (the tier entry); null with tier
--   suppression_reason: the first account-wide suppression that applies, in strategy order (deceased, bankruptcy, do_not_contact, no_customer_record, open_dispute, complaint, promise_to_pay, paid_to_current, placed_with_agency; open_dispute, complaint and promise_to_pay also from the contact_outcomes feed: dispute_raised, complaint, promise_to_pay with its promised_date), for accounts with a tier; paid_to_current also when the tier is null; after contact planning, when every contact of the treatment was suppressed on its channel, that channel reason (opt_out, frequency_cap, no_destination, hardship, bad_destination)
--   suppression_reasons: every account-wide suppression that applies, comma-separated
--   channel_suppressions: after contact planning: channel=reason for each contact of the treatment not planned tonight (e.g. sms=opt_out,email=frequency_cap)
--   contacts_planned: after contact planning: contacts of the treatment planned for this night (0 when none); null before planning
--   strategy_version: the strategy's version + content hash that decided the row
--   experiment_id: the running strategy experiment the account's customer is in (set after tiering: sql/experiments/tag_tiers.sql); null outside one
--   arm: champion, challenger or holdout in that experiment (a challenger or holdout row is tiered by the arm's strategy); null outside one
with

-- ------------------------------------------------------------------ the nights' open accounts
accounts as (
    select
        f.snapshot_date,
        f.account_id,
        f.customer_id,
        f.product,
        f.currency,
        f.status,
        f.bucket,
        f.days_past_due,
        f.balance,
        f.credit_limit,
        f.past_due_amount,
        s.amount_due,
        s.next_due_date,
        f.utilisation,
        f.days_since_delinquent
    from account_features as f
    inner join account_snapshots as s
        on s.snapshot_date = f.snapshot_date and s.account_id = f.account_id
    where f.snapshot_date between cast($start_date as date) and cast($end_date as date)
        and s.snapshot_date between cast($start_date as date) and cast($end_date as date)
        and f.status <> 'closed'
),

scores as (
{%- if has_scores %}
    select snapshot_date, account_id, probability, risk_grade, early_warning, model_version
    from account_scores
    where snapshot_date between cast($start_date as date) and cast($end_date as date)
{%- else %}
    select
        cast(null as date) as snapshot_date,
        cast(null as varchar) as account_id,
        cast(null as double) as probability,
        cast(null as varchar) as risk_grade,
        cast(null as boolean) as early_warning,
        cast(null as varchar) as model_version
    where false
{%- endif %}
),

ranked as (
    select
        a.*,
        sc.risk_grade,
        sc.probability,
        coalesce(sc.early_warning, false) as early_warning,
        sc.model_version,
        case
            when sc.probability is not null
                then row_number() over (
                    partition by a.snapshot_date, a.bucket, sc.probability is null
                    order by sc.probability desc, a.account_id
                )
        end as risk_rank_in_bucket,
        count(sc.probability) over (partition by a.snapshot_date, a.bucket) as scored_in_bucket
    from accounts as a
    left join scores as sc
        on sc.snapshot_date = a.snapshot_date and sc.account_id = a.account_id
),

scored as (
    select
        r.*,
        case
            when h.top_share is not null then 'top_share=' || cast(h.top_share as varchar)
            when h.min_probability is not null
                then 'min_probability=' || cast(h.min_probability as varchar)
            when h.grades is not null then 'grades=' || array_to_string(h.grades, ',')
        end as high_risk_rule,
        coalesce(case
            when r.probability is null then false
            -- the rank's share, with a hair of slack so 0.3 x 10 is 3 in floating point
            when h.top_share is not null
                then r.risk_rank_in_bucket <= floor(h.top_share * r.scored_in_bucket + 1e-9)
            when h.min_probability is not null then r.probability >= h.min_probability
            when h.grades is not null then list_contains(h.grades, r.risk_grade)
        end, false) as high_risk
    from ranked as r
    left join high_risk_rules as h on h.bucket = r.bucket
),

-- ------------------------------------------------------------------ tier: first matching rule
matched as (
    select
        s.snapshot_date,
        s.account_id,
        min(r.rule_order) as tier_rule
    from scored as s
    inner join tier_rules as r on r.bucket = s.bucket
    where (r.risk is null or (r.risk = 'high') = s.high_risk)
        and (r.currency is null or r.currency = s.currency)
        and (r.min_balance is null or s.balance >= r.min_balance)
        and (r.max_balance is null or s.balance < r.max_balance)
        and (r.early_warning is null or r.early_warning = s.early_warning)
        and (
            r.due_within_days is null
            or (s.amount_due > 0
                -- from the send day (the night + 1): a reminder never goes out on or after its due date
                and s.next_due_date between s.snapshot_date + 1
                and s.snapshot_date + r.due_within_days)
        )
    group by s.snapshot_date, s.account_id
),

rules as (
    select distinct rule_order, tier, treatment from tier_rules
),

-- ------------------------------------------------------------------ account-wide suppressions
events as (
    select customer_id, account_id, event_type, event_time, until_date, landing_date, amount
    from contact_events
    where landing_date <= cast($end_date as date)
        and event_type in ('deceased', 'bankruptcy', 'do_not_contact', 'complaint',
                           'promise_to_pay', 'dispute_opened', 'dispute_closed')
    {%- if has_outcomes %}
    union all
    -- issue 19: what a contact's outcome said, about the contact's account and customer
    select h.customer_id, h.account_id,
        case o.outcome when 'dispute_raised' then 'dispute_opened' else o.outcome end,
        o.outcome_time, o.promised_date, o.landing_date, o.promised_amount
    from contact_outcomes as o
    inner join contact_history as h on h.contact_id = o.contact_id
    where o.landing_date <= cast($end_date as date)
        and o.outcome in ('complaint', 'promise_to_pay', 'dispute_raised')
    {%- endif %}
),

event_reasons as (
    select
        a.snapshot_date,
        a.account_id,
        case
            when e.event_type in ('dispute_opened', 'dispute_closed') then 'open_dispute'
            else e.event_type
        end as reason,
        e.event_type,
        e.event_time,
        e.until_date,
        e.landing_date,
        e.amount,
        e.account_id as event_account_id
    from accounts as a
    inner join events as e
        on e.customer_id = a.customer_id and e.landing_date <= a.snapshot_date
    where e.account_id is null
        or e.account_id = a.account_id
        or e.event_type in ('deceased', 'bankruptcy', 'do_not_contact')
),

in_window as (
    select er.*
    from event_reasons as er
    inner join suppression_rules as r on r.reason = er.reason
    where r.lookback_days is null or er.landing_date > er.snapshot_date - r.lookback_days
),

-- a promise holds contact while it is the latest landed for the account, up to its date plus
-- $promise_grace_days, until the payments since its day reach its amount (kept: the promise
-- ledger's rule, sql/collections/promises.sql); broken or kept, contact resumes. A customer-wide
-- promise (no account) holds to its date plus grace: its payments may be in other currencies.
latest_promise as (
    select
        *,
        -- the lender's day of the promise, never after the night whose file carried it
        least(cast(timezone($lender_timezone, event_time) as date), landing_date) as promise_day
    from in_window
    where reason = 'promise_to_pay'
    qualify row_number() over (
        partition by snapshot_date, account_id order by landing_date desc, event_time desc
    ) = 1
),

promise_paid as (
    select lp.snapshot_date, lp.account_id, sum(s.payment_amount) as paid
    from latest_promise as lp
    inner join account_snapshots as s on s.account_id = lp.event_account_id
    where s.snapshot_date between lp.promise_day and lp.snapshot_date
        and s.payment_amount > 0
        and coalesce(s.last_payment_date, s.snapshot_date)
            between lp.promise_day
            and lp.until_date + cast($promise_grace_days as integer)
    group by lp.snapshot_date, lp.account_id
),

promise_holds as (
    select lp.snapshot_date, lp.account_id, 'promise_to_pay' as reason
    from latest_promise as lp
    left join promise_paid as pp
        on pp.snapshot_date = lp.snapshot_date and pp.account_id = lp.account_id
    where lp.until_date + cast($promise_grace_days as integer) >= lp.snapshot_date
        and (lp.amount is null or lp.event_account_id is null or coalesce(pp.paid, 0) < lp.amount)
),

applying as (
    select snapshot_date, account_id, reason
    from in_window
    where reason in ('deceased', 'bankruptcy', 'do_not_contact', 'complaint')
    union all
    select snapshot_date, account_id, reason from promise_holds
    union all
    -- the latest dispute event is an opening (a closing at the same instant wins)
    select snapshot_date, account_id, 'open_dispute' as reason
    from in_window
    where reason = 'open_dispute'
    group by snapshot_date, account_id
    having arg_max(event_type, (event_time, event_type = 'dispute_closed')) = 'dispute_opened'
    union all
    -- delinquent on the previous snapshot within the lookback, current tonight
    select a.snapshot_date, a.account_id, 'paid_to_current' as reason
    from accounts as a
    inner join suppression_rules as r on r.reason = 'paid_to_current'
    where a.days_past_due = 0
        and a.days_since_delinquent between 1 and coalesce(r.lookback_days, 100000)
{%- if has_placements %}
    union all
    -- an outside agency holds the account tonight (agency_placements, issue 19)
    select a.snapshot_date, a.account_id, 'placed_with_agency' as reason
    from accounts as a
    inner join agency_placements as p
        on p.account_id = a.account_id and p.placed_night <= a.snapshot_date
        and (p.recalled_night is null or p.recalled_night > a.snapshot_date)
{%- endif %}
),

customer_first_landed as (
    select customer_id, min(landing_date) as first_landed
    from customers_history
    where landing_date <= cast($end_date as date)
    group by customer_id
),

held_for_data as (
    -- no customer record landed by the night: no name, phone or address to contact
    select a.snapshot_date, a.account_id, 'no_customer_record' as reason
    from accounts as a
    left join customer_first_landed as c on c.customer_id = a.customer_id
    where c.first_landed is null or c.first_landed > a.snapshot_date
),

suppressed as (
    select
        ap.snapshot_date,
        ap.account_id,
        arg_min(ap.reason, r.priority) as suppression_reason,
        string_agg(ap.reason, ',' order by r.priority) as suppression_reasons
    from (select distinct * from applying union all select * from held_for_data) as ap
    inner join suppression_rules as r on r.reason = ap.reason
    group by ap.snapshot_date, ap.account_id
),

-- ------------------------------------------------------------------ jurisdiction
latest_customers as (
    select customer_id, arg_max(country, landing_date) as country
    from customers_history
    where landing_date <= cast($end_date as date)
    group by customer_id
),

jurisdictions as (
    select jurisdiction from jurisdiction_rules
),

-- ------------------------------------------------------------------ tier entry
decided as (
    select
        s.*,
        coalesce(j.jurisdiction, (select jurisdiction from jurisdiction_rules where is_default))
            as jurisdiction,
        ru.tier,
        m.tier_rule,
        ru.treatment,
        sp.suppression_reason,
        sp.suppression_reasons
    from scored as s
    left join matched as m on m.snapshot_date = s.snapshot_date and m.account_id = s.account_id
    left join rules as ru on ru.rule_order = m.tier_rule
    left join suppressed as sp
        on sp.snapshot_date = s.snapshot_date and sp.account_id = s.account_id
    left join latest_customers as lc on lc.customer_id = s.customer_id
    left join jurisdictions as j on j.jurisdiction = lc.country
),

previous_row as (
    -- each account's latest row before the nights, whatever night it is on: a night the account
    -- has no row (its file absent, its row quarantined) does not end its tier entry; a gap of more
    -- than {{ max_gap_days }} days does (a monthly book's month ends are 28-31 days apart)
    select account_id, tier, tier_since, snapshot_date
    from collection_tiers
    where snapshot_date < cast($start_date as date)
        and snapshot_date >= cast($start_date as date) - {{ max_gap_days }}
    qualify row_number() over (partition by account_id order by snapshot_date desc) = 1
),

first_rows as (
    select account_id, min(snapshot_date) as first_night
    from decided
    group by account_id
),

previous_night as (
    select pr.account_id, pr.tier, pr.tier_since
    from previous_row as pr
    inner join first_rows as fr on fr.account_id = pr.account_id
    where pr.tier is not null and fr.first_night - pr.snapshot_date <= {{ max_gap_days }}
),

{%- if single_night %}
-- one night (the nightly run): the tier entry carries over from the account's previous row
runs as (
    select
        d.*,
        0 as run_number,
        pn.tier as carried_tier,
        pn.tier_since as carried_since
    from decided as d
    left join previous_night as pn on pn.account_id = d.account_id and pn.tier = d.tier
),
{%- else %}
runs as (
    select
        d.*,
        -- a new run starts when the tier differs from the account's previous row, or when that row
        -- is more than {{ max_gap_days }} days before (the same rule as the nightly carry-over)
        sum(case when d.tier is distinct from d.previous_tier
                      or d.snapshot_date - d.previous_night > {{ max_gap_days }}
                 then 1 else 0 end) over (
            partition by d.account_id order by d.snapshot_date
            rows between unbounded preceding and current row
        ) as run_number
    from (
        select
            dd.*,
            -- the first row of the nights looks at the row before them (a null tier is a tier too)
            case
                when row_number() over (partition by dd.account_id order by dd.snapshot_date) = 1
                    then pn.tier
                else lag(dd.tier) over (partition by dd.account_id order by dd.snapshot_date)
            end as previous_tier,
            case
                when row_number() over (partition by dd.account_id order by dd.snapshot_date) = 1
                    then pr.snapshot_date
                else lag(dd.snapshot_date) over (partition by dd.account_id order by dd.snapshot_date)
            end as previous_night,
            pn.tier as carried_tier,
            pn.tier_since as carried_since
        from decided as dd
        left join previous_night as pn on pn.account_id = dd.account_id
        left join previous_row as pr on pr.account_id = dd.account_id
    ) as d
),
{%- endif %}

final as (
    select
        snapshot_date,
        account_id,
        customer_id,
        product,
        currency,
        status,
        bucket,
        days_past_due,
        balance,
        credit_limit,
        past_due_amount,
        amount_due,
        next_due_date,
        utilisation,
        risk_grade,
        probability,
        early_warning,
        risk_rank_in_bucket,
        scored_in_bucket,
        high_risk_rule,
        high_risk,
        model_version,
        jurisdiction,
        tier,
        tier_rule,
        treatment,
        case when early_warning then treatment end as early_warning_action,
        case
            when tier is null then null
            when run_number = 0 and carried_tier = tier then coalesce(carried_since, snapshot_date)
{%- if single_night %}
            else snapshot_date
{%- else %}
            else min(snapshot_date) over (partition by account_id, run_number)
{%- endif %}
        end as tier_since,
        case
            when tier is not null or suppression_reason = 'paid_to_current'
                then suppression_reason
        end as suppression_reason,
        case
            when tier is not null or suppression_reason = 'paid_to_current'
                then suppression_reasons
        end as suppression_reasons,
        cast(null as varchar) as channel_suppressions,
        cast(null as integer) as contacts_planned,
        cast($strategy_version as varchar) as strategy_version
    from runs
)

select * from final
