-- A rerun of a night (say, after its landing file was corrected) cancels the night's contacts
-- that are not sent yet and that tonight's plan no longer holds: an account corrected to current
-- must not get a collection message. Sent, delivered and failed contacts are history: untouched.
update contact_history
set status = 'cancelled', updated_at = now()
where snapshot_date = $night
    and source = 'plan'
    and status in ('planned', 'held')
    and idempotency_key not in (
        select idempotency_key from tonight_candidates where channel_suppression is null
    )
