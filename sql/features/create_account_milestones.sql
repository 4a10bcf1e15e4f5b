-- account_milestones: per account, the first night it was seen and first reached 30+ and 90+.
-- A running state, updated by each night's snapshots (so vintages need no full-history scan).
-- Monotone: a corrected file can make a milestone earlier, never remove one.
create table if not exists account_milestones (
    account_id varchar primary key,
    product varchar,
    open_date date,
    first_seen date,
    first_30plus date,
    first_90plus date
)
