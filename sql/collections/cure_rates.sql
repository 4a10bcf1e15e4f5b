-- Cure tracking (issue 5): for treatments sent, did the account pay or cure within 7 and 30
-- nights? Rates by tier and treatment, as known on each night in [$start_date, $end_date].
-- Grain: one row per (snapshot_date, tier, treatment) with contacts tonight or in a cohort.
-- A treatment: a distinct (account, contact night, treatment) with at least one contact of the
-- plan that was not held, cancelled or overflowed (a task beyond its queue's capacity). Cohorts on night N: the 7-day cohort is the treatments of
-- the 30 contact nights N-36 .. N-7 (each has had its 7 nights), the 30-day cohort those of
-- N-59 .. N-30. paid: a snapshot in (contact night, +k nights] with payment_amount > 0; cured:
-- for an account delinquent at contact, a snapshot in that window at 0 DPD; for an account
-- current at contact (T0), no snapshot in that window above 0 DPD (it never fell behind).
-- Only snapshots dated up to N are read, so a night's figures never use the future.
--
-- Columns:
--   snapshot_date: the night the rates are known on
--   tier: the tier at contact
--   treatment: the treatment at contact
--   contacts_tonight: treatments planned tonight (released or waiting)
--   contacts: treatments in the 7-day cohort
--   paid_7d: of those, paid within 7 nights
--   cured_7d: of those, cured within 7 nights
--   paid_rate_7d: paid_7d / contacts; null when no contacts
--   cure_rate_7d: cured_7d / contacts; null when no contacts
--   contacts_30d: treatments in the 30-day cohort
--   paid_30d: of those, paid within 30 nights
--   cured_30d: of those, cured within 30 nights
--   paid_rate_30d: paid_30d / contacts_30d; null when none
--   cure_rate_30d: cured_30d / contacts_30d; null when none
--   cohort_start_7d, cohort_end_7d: the contact nights of the 7-day cohort
--   cohort_start_30d, cohort_end_30d: the contact nights of the 30-day cohort
with

nights as (
    select distinct snapshot_date as night
    from collection_tiers
    where snapshot_date between $start_date and $end_date
),

treatments as (
    select distinct h.account_id, h.snapshot_date as contact_night, h.tier, h.treatment,
        t.days_past_due as dpd_at_contact
    from contact_history as h
    inner join collection_tiers as t
        on t.snapshot_date = h.snapshot_date and t.account_id = h.account_id
    where h.source = 'plan'
        and h.status not in ('held', 'cancelled', 'overflow')
        and h.snapshot_date between cast($start_date as date) - 59 and $end_date
),

cohorts as (
    select
        n.night,
        tr.*,
        case when tr.contact_night between n.night - 36 and n.night - 7 then 7
             when tr.contact_night between n.night - 59 and n.night - 30 then 30 end as horizon
    from nights as n
    inner join treatments as tr
        on tr.contact_night between n.night - 59 and n.night - 7
),

outcomes as (
    select
        c.night,
        c.account_id,
        c.contact_night,
        c.tier,
        c.treatment,
        c.horizon,
        coalesce(bool_or(s.payment_amount > 0), false) as paid,
        case
            when c.dpd_at_contact > 0 then coalesce(bool_or(s.days_past_due = 0), false)
            else coalesce(max(s.days_past_due), 0) = 0
        end as cured
    from cohorts as c
    left join account_snapshots as s
        on s.account_id = c.account_id
        and s.snapshot_date > c.contact_night
        and s.snapshot_date <= c.contact_night + c.horizon
        and s.snapshot_date <= c.night
    where c.horizon is not null
    group by c.night, c.account_id, c.contact_night, c.tier, c.treatment, c.horizon,
        c.dpd_at_contact
),

planned_tonight as (
    select contact_night as night, tier, treatment, count(*) as contacts_tonight
    from treatments
    where contact_night between $start_date and $end_date
    group by all
),

rates as (
    select
        night,
        tier,
        treatment,
        count(*) filter (where horizon = 7) as contacts,
        count(*) filter (where horizon = 7 and paid) as paid_7d,
        count(*) filter (where horizon = 7 and cured) as cured_7d,
        count(*) filter (where horizon = 30) as contacts_30d,
        count(*) filter (where horizon = 30 and paid) as paid_30d,
        count(*) filter (where horizon = 30 and cured) as cured_30d
    from outcomes
    group by all
),

final as (
    select
        coalesce(r.night, p.night) as snapshot_date,
        coalesce(r.tier, p.tier) as tier,
        coalesce(r.treatment, p.treatment) as treatment,
        coalesce(p.contacts_tonight, 0) as contacts_tonight,
        coalesce(r.contacts, 0) as contacts,
        coalesce(r.paid_7d, 0) as paid_7d,
        coalesce(r.cured_7d, 0) as cured_7d,
        r.paid_7d / nullif(r.contacts, 0) as paid_rate_7d,
        r.cured_7d / nullif(r.contacts, 0) as cure_rate_7d,
        coalesce(r.contacts_30d, 0) as contacts_30d,
        coalesce(r.paid_30d, 0) as paid_30d,
        coalesce(r.cured_30d, 0) as cured_30d,
        r.paid_30d / nullif(r.contacts_30d, 0) as paid_rate_30d,
        r.cured_30d / nullif(r.contacts_30d, 0) as cure_rate_30d,
        coalesce(r.night, p.night) - 36 as cohort_start_7d,
        coalesce(r.night, p.night) - 7 as cohort_end_7d,
        coalesce(r.night, p.night) - 59 as cohort_start_30d,
        coalesce(r.night, p.night) - 30 as cohort_end_30d
    from rates as r
    full outer join planned_tonight as p
        on p.night = r.night and p.tier = r.tier and p.treatment = r.treatment
)

select * from final
