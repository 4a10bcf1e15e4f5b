-- Record the batch's verdict on the night's contacts (registered table `linted_contacts`):
-- planned or held with the rule and span, the content's sha256, whether it went into the
-- released batch and which folder ($folder). Contacts already sent, delivered or failed are
-- never changed; released contacts are not in linted_contacts (a rerun never rewrites them).
update contact_history as h
set
    status = l.status,
    held_rule = l.held_rule,
    held_span = l.held_span,
    content_sha256 = l.content_sha256,
    batch_written = $written and l.status = 'planned',
    batch_folder = case when $written and l.status = 'planned' then $folder end,
    updated_at = now()
from linted_contacts as l
where h.snapshot_date = $night
    and h.contact_id = l.contact_id
    and h.status in ('planned', 'held')
