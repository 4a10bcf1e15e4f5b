-- Record that the state of $night was built, by which path, and when ($built_at).
insert into account_feature_state_night (state_night, path, built_at)
values (cast($night as date), $path, cast($built_at as timestamptz))
