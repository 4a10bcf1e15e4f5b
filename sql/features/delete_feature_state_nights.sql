-- The night log of account_feature_state, pruned as delete_feature_state.sql prunes the states.
delete from account_feature_state_night
where state_night >= cast($night as date) or state_night < cast($keep_from as date)
