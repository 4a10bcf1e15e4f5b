-- offers: one row per offer made (payment plan or settlement), its figures and where it stands
-- (pipelines/lib/collections/offers.py runs the lifecycle night by night).
--   offer_id: stable per account, type and night ('OF' + 16 hex digits of md5)
--   account_id, customer_id, currency: the account, its holder, the currency of every amount
--   type: payment_plan | settlement
--   balance_at_offer: the account's balance on the night of the offer
--   instalments: payment plan: instalment count; settlement: 1
--   instalment_amount: each instalment but the last (balance / instalments cut down to the cent);
--     settlement: the settlement amount
--   last_instalment_amount: the last instalment: balance - (instalments - 1) x instalment_amount
--   waived_share: settlement: the share of the balance waived; null for plans
--   settlement_amount: balance x (1 - waived_share) rounded half-up to the cent; null for plans
--   approval_level: the strategy's approval level that may grant the offer
--   offered_night, valid_until: the night of the offer and the last day it can be accepted
--   status: offered | accepted | declined | expired | active | kept | broken | completed
--     (accepted: the night the acceptance landed; active: running, no instalment paid yet; kept:
--     running, every instalment paid so far; completed: all paid; broken: an instalment missed)
--   decided_night: the night the acceptance or decline landed
--   accepted_on: the day of the acceptance (its outcome_time); instalments fall due from it
--   outcome_id: the contact_outcomes row that decided it
--   closed_night: the night it expired, broke or completed
--   treatment, tier: what the account was getting when the offer was made
--   strategy_version: the strategy that made it
create table if not exists offers (
    offer_id varchar not null,
    account_id varchar not null,
    customer_id varchar not null,
    currency varchar not null,
    type varchar not null,
    balance_at_offer decimal(18, 2) not null,
    instalments integer not null,
    instalment_amount decimal(18, 2) not null,
    last_instalment_amount decimal(18, 2) not null,
    waived_share decimal(5, 4),
    settlement_amount decimal(18, 2),
    approval_level varchar not null,
    offered_night date not null,
    valid_until date not null,
    status varchar not null,
    decided_night date,
    accepted_on date,
    outcome_id varchar,
    closed_night date,
    treatment varchar,
    tier varchar,
    strategy_version varchar not null
)
