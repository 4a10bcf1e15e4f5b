-- account_feature_state_night: one row per night whose account_feature_state is kept, and when it
-- was built: a snapshot night landed after that cannot have been folded into it.
create table if not exists account_feature_state_night (
    state_night date primary key,
    path varchar not null,
    built_at timestamptz not null
)
