-- agency_placements: one row per placement of an account with an outside agency (issue 19),
-- filled night by night by pipelines/lib/collections/agencies.py from the strategy's `agencies:`.
-- Columns:
--   placement_id: PL<placed night yyyymmdd>-<account_id>, the reference the agency reports back with
--   account_id: the account placed
--   customer_id: the account's holder when placed
--   agency_id: the agency holding it (an id of the strategy's agencies.jurisdictions.<j>.shares)
--   jurisdiction: the customer's jurisdiction when placed (its agencies and law)
--   currency: ISO 4217 currency of the balance
--   placed_night: the night the account was placed (its file went out that night)
--   balance_at_placement: balance on the placement night, in the account's currency
--   rotation_due: placed_night + rotation_days: the night it moves to another agency; null when the strategy never rotates
--   recalled_night: the night the placement ended (recalled, rotated or returned); null while active
--   recall_reason: why it ended: deceased, bankruptcy, dispute, complaint, payment (recalled), rotation (rotated), closed, left_placed_buckets or no_agencies_in_strategy (returned); null while active
--   status: active | recalled | rotated | returned
--   strategy_version: the strategy's version + content hash that placed it
create table if not exists agency_placements (
    placement_id varchar primary key,
    account_id varchar not null,
    customer_id varchar not null,
    agency_id varchar not null,
    jurisdiction varchar not null,
    currency varchar not null,
    placed_night date not null,
    balance_at_placement decimal(18, 2) not null,
    rotation_due date,
    recalled_night date,
    recall_reason varchar,
    status varchar not null,
    strategy_version varchar not null
)
