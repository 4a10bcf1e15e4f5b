-- The returned work lists (feed work_list_outcomes, nights [$start_date, $end_date]) as
-- contact_outcomes rows: each filled row is one outcome of its task, outcome_id
-- wl:<contact_id>:<outcome>, source work_list, agency none. The collector's words become the
-- feed's: busy and voicemail are no_answer, wrong_number is wrong_party, callback_requested and
-- paid are right_party_contact. An empty outcome_time reads as the file's night, 00:00 UTC.
-- An outcome_id another night already holds is skipped, like a resent receipt.
insert into contact_outcomes by name
with

filled as (
    select
        *,
        case outcome
            when 'busy' then 'no_answer'
            when 'voicemail' then 'no_answer'
            when 'wrong_number' then 'wrong_party'
            when 'callback_requested' then 'right_party_contact'
            when 'paid' then 'right_party_contact'
            else outcome
        end as feed_outcome
    from work_list_outcomes
    where landing_date between $start_date and $end_date
        and outcome is not null
),

final as (
    select
        'wl:' || contact_id || ':' || feed_outcome as outcome_id,
        contact_id,
        coalesce(outcome_time, timezone('UTC', cast(landing_date as timestamp))) as outcome_time,
        feed_outcome as outcome,
        promise_amount as promised_amount,
        promise_date as promised_date,
        offer_id,
        agent_id,
        cast(null as varchar) as agency_id,
        'work_list' as source,
        landing_date,
        cast(null as json) as extra_columns,
        source_file,
        source_row
    from filled
    qualify row_number() over (partition by outcome_id order by landing_date, source_row) = 1
)

select * from final
where outcome_id not in (select outcome_id from contact_outcomes)
