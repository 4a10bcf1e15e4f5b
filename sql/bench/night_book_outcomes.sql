-- The bench night's contact_outcomes file: what came back for last night's planned contacts, in
-- the landing format (data_contracts/contact_outcomes.odcs.yaml), so the collections loop (statuses,
-- bad destinations, promises) runs at the book's scale. Deterministic per contact (hash of its id).
-- Messages: 96% delivered, the rest failed / bounced / returned by channel. Calls: 55% no_answer,
-- 20% right_party_contact, 12% promise_to_pay (the account's past-due amount, in a week), 5%
-- refused, 4% wrong_party, 2% dispute_raised, 2% hardship_claimed. Review tasks get none.
with planned as (
    select
        c.contact_id,
        c.channel,
        c.account_id,
        hash(c.contact_id) % 100 as draw
    from contact_history as c
    where c.snapshot_date = cast($night as date) and c.status = 'planned'
        and c.channel in ('sms', 'email', 'letter', 'phone')
),

with_outcome as (
    select
        p.contact_id,
        p.account_id,
        case
            when p.channel <> 'phone' and p.draw < 96 then 'delivered'
            when p.channel = 'sms' then 'failed'
            when p.channel = 'email' then 'bounced'
            when p.channel = 'letter' then 'returned'
            when p.draw < 55 then 'no_answer'
            when p.draw < 75 then 'right_party_contact'
            when p.draw < 87 then 'promise_to_pay'
            when p.draw < 92 then 'refused'
            when p.draw < 96 then 'wrong_party'
            when p.draw < 98 then 'dispute_raised'
            else 'hardship_claimed'
        end as outcome
    from planned as p
)

select
    'bench:' || o.contact_id as outcome_id,
    o.contact_id,
    strftime(cast($night as date), '%Y-%m-%d') || 'T18:30:00+08:00' as outcome_time,
    o.outcome,
    case when o.outcome = 'promise_to_pay'
        then greatest(s.past_due_amount, 1.00) end as promised_amount,
    case when o.outcome = 'promise_to_pay'
        then cast($night as date) + 7 end as promised_date,
    cast(null as varchar) as offer_id,
    case when o.outcome not in ('delivered', 'failed', 'bounced', 'returned')
        then 'agent' || lpad(cast(hash(o.contact_id) % 40 as varchar), 2, '0') end as agent_id,
    cast(null as varchar) as agency_id,
    case when o.outcome in ('delivered', 'failed', 'bounced', 'returned')
        then 'gateway' else 'work_list' end as source
from with_outcome as o
left join account_snapshots as s
    on s.account_id = o.account_id and s.snapshot_date = cast($night as date)
order by o.contact_id
