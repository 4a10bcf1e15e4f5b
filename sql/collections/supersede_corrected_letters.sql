-- A correction released tonight (registered table `linted_contacts`, status planned, with
-- corrects_letter_id) marks the released letter it replaces: superseded_by the new letter,
-- correction_note corrected. The replaced letter's status and content stay: it was sent.
update contact_history as h
set
    superseded_by = l.contact_id,
    correction_note = 'corrected',
    updated_at = now()
from linted_contacts as l
where $written
    and l.status = 'planned'
    and l.corrects_letter_id is not null
    and h.snapshot_date = $night
    and h.letter_id = l.corrects_letter_id
