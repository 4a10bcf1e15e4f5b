-- observation_label_nights: one row per night whose observation_labels are kept, the rule they
-- were computed with, and when: a snapshot night landed after built_at cannot be in them.
--   definition: sha256 of the label pass's SQL and the macros it calls
create table if not exists observation_label_nights (
    snapshot_date date primary key,
    label_date date not null,
    horizon_months integer not null,
    seed bigint not null,
    definition varchar not null,
    accounts bigint not null,
    built_at timestamptz not null
)
