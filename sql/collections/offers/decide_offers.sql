-- An offer still open for acceptance takes the first offer_accepted / offer_declined outcome
-- landed by $night for it (by outcome_time, then outcome_id), when the outcome is not after
-- valid_until; later outcomes for a decided offer change nothing (idempotent).
update offers as o
set
    status = case when d.outcome = 'offer_accepted' then 'accepted' else 'declined' end,
    decided_night = cast($night as date),
    accepted_on = case when d.outcome = 'offer_accepted' then d.outcome_day end,
    outcome_id = d.outcome_id
from (
    select
        offer_id,
        arg_min(outcome, (outcome_time, outcome_id)) as outcome,
        arg_min(outcome_id, (outcome_time, outcome_id)) as outcome_id,
        arg_min(cast(outcome_time as date), (outcome_time, outcome_id)) as outcome_day
    from contact_outcomes
    where landing_date <= cast($night as date)
        and outcome in ('offer_accepted', 'offer_declined')
        and offer_id is not null
    group by offer_id
) as d
where o.offer_id = d.offer_id
    and o.status = 'offered'
    and d.outcome_day <= o.valid_until
