-- contact_history: every contact planned by the strategy (SMS, e-mail, print letter, phone or
-- review task) and every call from the contact_events feed, kept at least 5 years (DOMAIN §5).
-- Grain: one row per idempotency_key. A night's plan only ever adds keys it has not seen.
-- Columns:
--   contact_id: the letter reference (letter_id) for messages, CT<night>-<hash> for tasks, the event_id for feed calls
--   idempotency_key: sha256 of account|night|treatment|channel|template|locale|template_version (tasks: queue instead of template), or event:<event_id>
--   snapshot_date: the night the contact was planned for (feed calls: the night whose file carried them)
--   account_id: the account the contact is about (feed calls: as the feed gave it, may be null)
--   customer_id: the recipient, always the account's holder (the debtor)
--   tier: the account's tier that night
--   treatment: the tier's treatment
--   tier_since: the tier entry night, for once-per-entry cadence
--   channel: sms, email, letter, phone, review
--   template: template stem under reports/letters/<channel>/ (null for tasks)
--   template_version: first 12 hex digits of the sha256 of the template source and everything it includes
--   locale: zh-CN or en-US
--   jurisdiction: CN, US: whose rules the linter applied
--   queue: work list for tasks (phone_early, phone_formal, specialist, field_visit_review, recovery_legal_review)
--   priority: work list priority, 1 first
--   status: planned, held (linter or a per-contact step failed), overflow (a task ranked beyond its queue's capacity: not on the work list), sent, delivered, failed, cancelled; outcomes (sql/collections/apply_contact_outcomes.sql) move planned -> sent -> delivered | failed | attempted (a call not answered) | answered (a call's right/wrong-party disposition), never backwards
--   held_rule: the DOMAIN §5 rule the contact broke (when held); queue_full (when overflow)
--   held_span: the offending text, or what was missing (when held)
--   scheduled_at: when to send or call: the day after the night at the jurisdiction's send time in the customer's time zone (UTC instant); null when the customer's time zone is unknown
--   letter_id: the unique letter reference printed on the letter (messages only)
--   cap_count: this contact's number among the debtor's contacts on this channel within the cap window (messages), or calls in the 7 days ending the call day (phone)
--   cap_max: the jurisdiction's cap for that count (null: none)
--   last_conversation: night of the debtor's latest connected call in the feed, if any
--   queue_rank: a task's rank in its jurisdiction's queue that night, by expected value (sql/collections/plan_contacts.sql); null for messages and feed calls
--   queue_capacity: the queue's tasks a night in the jurisdiction (agents x tasks_per_agent); null: unlimited
--   expected_value: cure probability x past-due amount in the account's currency, the rank's key (plan_contacts.sql); null when unknown
--   source: plan (this strategy) or events (the contact_events feed)
--   event_type: call_attempt or call_connected (feed calls)
--   strategy_version: the strategy that planned the contact
--   content_sha256: sha256 of the rendered content (set when rendered into a batch)
--   batch_written: the contact was rendered and written into that night's batch folder
--   batch_folder: the batch folder it was released in: <night>, or <night>.r<N> for a correction written after the night was released
--   corrects_letter_id: on a correction (letter <id>.R<N>, key <key>|r<N>), the released letter it replaces; null otherwise
--   superseded_by: on a released letter, the correction that replaced it (its status stays: it was sent)
--   correction_note: corrected (superseded_by names the new letter), or no_longer_due (a corrected file took the contact out of the plan after it was released: no new letter, status stays)
--   planned_at: when the row was first written (UTC)
--   updated_at: when status last changed (UTC)
--   outcome: the latest outcome the contact_outcomes feed reported for it (issue 19: sent, delivered, failed, bounced, returned, no_answer, right_party_contact, ...); null until one arrives
--   outcome_at: that outcome's time (outcome_time)
--   outcome_id: that outcome's contact_outcomes.outcome_id
--   agent_id: the collector who made the call, as the latest outcome naming one said
--   agency_id: the outside agency that made the contact, as the latest outcome naming one said
create table if not exists contact_history (
    contact_id varchar not null,
    idempotency_key varchar not null,
    snapshot_date date not null,
    account_id varchar,
    customer_id varchar not null,
    tier varchar,
    treatment varchar,
    tier_since date,
    channel varchar not null,
    template varchar,
    template_version varchar,
    locale varchar,
    jurisdiction varchar,
    queue varchar,
    priority integer,
    status varchar not null,
    held_rule varchar,
    held_span varchar,
    scheduled_at timestamptz,
    letter_id varchar,
    cap_count integer,
    cap_max integer,
    last_conversation date,
    queue_rank integer,
    queue_capacity integer,
    expected_value double,
    source varchar not null,
    event_type varchar,
    strategy_version varchar,
    content_sha256 varchar,
    batch_written boolean not null default false,
    batch_folder varchar,
    corrects_letter_id varchar,
    superseded_by varchar,
    correction_note varchar,
    planned_at timestamptz not null,
    updated_at timestamptz not null,
    -- issue 19: the strategy experiment and arm the contact was planned under (null: none)
    experiment_id varchar,
    arm varchar,
    -- issue 19: the latest outcome the contact_outcomes feed reported for the contact
    outcome varchar,
    outcome_at timestamptz,
    outcome_id varchar,
    agent_id varchar,
    agency_id varchar
)
