-- Drop the states of $night and later (rebuilt from tonight on) and those before $keep_from.
delete from account_feature_state
where state_night >= cast($night as date) or state_night < cast($keep_from as date)
