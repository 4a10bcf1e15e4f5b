-- Destinations the outcomes of nights [$start_date, $end_date] showed do not reach the customer
-- (bad_destinations, sql/collections/create_bad_destinations.sql): a failed SMS (failed), a
-- bounced e-mail (bounced or failed), a returned letter (returned or failed), a wrong-party call
-- (wrong_party: the number is not the debtor's, so neither calls nor SMS go to it: an SMS there
-- would tell a stranger of the debt). The destination is the one the customer record held on the
-- contact's night (the one the contact went to), kept as its sha256 only. A destination already
-- marked keeps its row.
insert into bad_destinations
with

failures as (
    select o.outcome_id, o.contact_id, o.outcome, o.landing_date, h.channel, h.customer_id,
        h.snapshot_date
    from contact_outcomes as o
    inner join contact_history as h on h.contact_id = o.contact_id
    where o.landing_date between $start_date and $end_date
        and (
            (h.channel = 'sms' and o.outcome = 'failed')
            or (h.channel = 'email' and o.outcome in ('bounced', 'failed'))
            or (h.channel = 'letter' and o.outcome in ('returned', 'failed'))
            or (h.channel = 'phone' and o.outcome = 'wrong_party')
        )
),

destinations as (
    select
        f.* exclude (channel),
        unnest(case when f.channel = 'phone' then ['phone', 'sms'] else [f.channel] end)
            as channel,
        case f.channel
            when 'email' then c.email when 'letter' then c.postal_address else c.mobile_phone
        end as destination
    from failures as f
    inner join customers_history as c
        on c.customer_id = f.customer_id and c.landing_date <= f.snapshot_date
    qualify row_number() over (
        partition by f.outcome_id, f.channel order by c.landing_date desc, c.source_row desc
    ) = 1
),

final as (
    select
        channel,
        sha256(destination) as destination_sha256,
        customer_id,
        landing_date as noted_on,
        contact_id,
        outcome_id,
        outcome
    from destinations
    where destination is not null
    qualify row_number() over (
        partition by channel, sha256(destination) order by landing_date, outcome_id
    ) = 1
)

select * from final as f
where not exists (
    select 1 from bad_destinations as b
    where b.channel = f.channel and b.destination_sha256 = f.destination_sha256
)
