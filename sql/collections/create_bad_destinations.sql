-- bad_destinations (issue 19): a phone number, e-mail address or postal address that a contact's
-- outcome showed does not reach the customer on a channel: a failed SMS, a bounced e-mail, a
-- returned letter, a wrong-party call. Later contacts to the same destination on that channel are
-- held `bad_destination` (sql/collections/plan_contacts.sql); a customer record that changes the
-- destination has another sha256, so the new one is contacted. Never the value itself.
-- Grain: one row per (channel, destination_sha256): the first outcome that marked it.
-- Columns:
--   channel: sms, email, letter, phone (the contact's channel)
--   destination_sha256: sha256 of the destination as the customer record held it on the contact's night (mobile_phone, email or postal_address, trimmed)
--   customer_id: whose record held it
--   noted_on: the night whose outcomes marked it (contact_outcomes.landing_date)
--   contact_id: the contact that failed
--   outcome_id: the outcome that said so
--   outcome: failed, bounced, returned or wrong_party
create table if not exists bad_destinations (
    channel varchar not null,
    destination_sha256 varchar not null,
    customer_id varchar not null,
    noted_on date not null,
    contact_id varchar not null,
    outcome_id varchar not null,
    outcome varchar not null
)
