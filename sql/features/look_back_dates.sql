-- One month before $night and before $previous_night, as values: a bound date lets the
-- look-back scans of carry_account_feature_state.sql skip the other nights' row groups.
select
    one_month_earlier(cast($night as date)) as month_ago,
    one_month_earlier(cast($previous_night as date)) as previous_month_ago
