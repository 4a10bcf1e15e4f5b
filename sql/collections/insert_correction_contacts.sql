-- Add the night's corrections (registered table `correction_contacts`): a released letter whose
-- content changed on a rerun goes out as a new contact, a copy of the released one with its own
-- letter id (<id>.R<N>), idempotency key (<key>|r<N>) and corrects_letter_id naming it. Added
-- once: a key already there is skipped.
insert into contact_history by name
select
    h.* replace (
        n.contact_id as contact_id,
        n.contact_id as letter_id,
        n.idempotency_key as idempotency_key,
        'planned' as status,
        cast(null as varchar) as held_rule,
        cast(null as varchar) as held_span,
        cast(null as varchar) as content_sha256,
        false as batch_written,
        cast(null as varchar) as batch_folder,
        n.corrects_letter_id as corrects_letter_id,
        cast(null as varchar) as superseded_by,
        cast(null as varchar) as correction_note,
        now() as planned_at,
        now() as updated_at
    )
from contact_history as h
inner join correction_contacts as n on n.corrects_letter_id = h.letter_id
where h.snapshot_date = $night
    and n.idempotency_key not in (
        select idempotency_key from contact_history where snapshot_date = $night
    )
