-- What became of each contact (issue 19): the contacts with an outcome loaded on nights
-- [$start_date, $end_date] take the status their outcomes reached and their latest outcome.
-- Status order, never backwards: planned -> sent -> attempted (a call not answered) ->
-- delivered | failed | answered. sent: sent; delivered: delivered; failed, bounced, returned:
-- failed; no_answer: attempted; any other disposition (right_party_contact, wrong_party, refused,
-- promise_to_pay, dispute_raised, hardship_claimed, offer_*, complaint): answered on a call or
-- review task, delivered on a message (the customer answered it, so it arrived). The first of
-- delivered, failed or answered a contact reaches is final. Only planned, sent and attempted
-- contacts move (held, overflow and cancelled ones were never made: they keep their status and
-- still record the outcome). outcome / outcome_at / outcome_id: the latest outcome (by time,
-- then id); agent_id / agency_id: the latest outcome that names one.
update contact_history as h
set
    status = s.new_status,
    outcome = s.outcome,
    outcome_at = s.outcome_time,
    outcome_id = s.outcome_id,
    agent_id = coalesce(s.agent_id, h.agent_id),
    agency_id = coalesce(s.agency_id, h.agency_id),
    updated_at = now()
from (
    with

    touched as (
        select distinct contact_id
        from contact_outcomes
        where landing_date between $start_date and $end_date
    ),

    outcomes as (
        select
            o.*,
            case
                when o.outcome = 'sent' then 'sent'
                when o.outcome = 'delivered' then 'delivered'
                when o.outcome in ('failed', 'bounced', 'returned') then 'failed'
                when o.outcome = 'no_answer' then 'attempted'
                when c.channel in ('phone', 'review') then 'answered'
                else 'delivered'
            end as reached
        from contact_outcomes as o
        inner join contact_history as c on c.contact_id = o.contact_id
        where o.contact_id in (select contact_id from touched)
            and o.landing_date <= $end_date
    ),

    ranked as (
        select
            *,
            case reached when 'sent' then 1 when 'attempted' then 2 else 3 end as step
        from outcomes
    ),

    per_contact as (
        select
            contact_id,
            max(step) as step,
            -- the highest step reached; among final ones, the first
            arg_min(reached, (-step, outcome_time, outcome_id)) as reached,
            arg_max(outcome, (outcome_time, outcome_id)) as outcome,
            max(outcome_time) as outcome_time,
            arg_max(outcome_id, (outcome_time, outcome_id)) as outcome_id,
            arg_max(agent_id, (outcome_time, outcome_id)) filter (where agent_id is not null)
                as agent_id,
            arg_max(agency_id, (outcome_time, outcome_id)) filter (where agency_id is not null)
                as agency_id
        from ranked
        group by contact_id
    )

    select
        p.*,
        case
            when c.status in ('planned', 'sent', 'attempted')
                and p.step > case c.status when 'planned' then 0 when 'sent' then 1 else 2 end
                then p.reached
            else c.status
        end as new_status
    from per_contact as p
    inner join contact_history as c on c.contact_id = p.contact_id
) as s
where h.contact_id = s.contact_id
    and (
        h.status <> s.new_status
        or h.outcome_id is distinct from s.outcome_id
        or h.agent_id is distinct from coalesce(s.agent_id, h.agent_id)
        or h.agency_id is distinct from coalesce(s.agency_id, h.agency_id)
    )
