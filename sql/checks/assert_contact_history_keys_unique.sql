-- Every idempotency key, contact id and letter reference occurs once in contact_history: a
-- duplicate would mean a contact planned twice or two letters sharing a reference.
-- Threshold: no rows returned.
select 'idempotency_key' as identifier, idempotency_key as value, count(*) as occurrences
from contact_history group by idempotency_key having count(*) > 1
union all
select 'contact_id', contact_id, count(*)
from contact_history group by contact_id having count(*) > 1
union all
select 'letter_id', letter_id, count(*)
from contact_history where letter_id is not null group by letter_id having count(*) > 1
