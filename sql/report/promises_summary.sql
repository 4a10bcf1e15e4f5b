-- Promises to pay on the night $night and the 30 nights ending it (section 9, promises): promises
-- made (by the night their file landed), right-party contacts (contact_outcomes dispositions
-- with the debtor reached{{ '' if has_outcomes else ': not in this rendering, the feed is absent' }},
-- and the contact_events feed's connected calls) and the promises still open that night.
-- One row. Columns: promises_tonight, promises_30d, right_party_30d, open_promises
with

right_party as (
    select landing_date
    from contact_events
    where event_type = 'call_connected'
        and landing_date between cast($night as date) - 29 and cast($night as date)
{%- if has_outcomes %}
    union all
    select landing_date
    from contact_outcomes
    where outcome in ('right_party_contact', 'refused', 'promise_to_pay', 'dispute_raised',
                      'hardship_claimed', 'offer_accepted', 'offer_declined')
        and landing_date between cast($night as date) - 29 and cast($night as date)
{%- endif %}
)

select
    count(*) filter (where promised_night = cast($night as date)) as promises_tonight,
    count(*) filter (where promised_night > cast($night as date) - 30) as promises_30d,
    (select count(*) from right_party) as right_party_30d,
    count(*) filter (
        where resolved_night is null or resolved_night > cast($night as date)
    ) as open_promises
from promises
where promised_night <= cast($night as date)
