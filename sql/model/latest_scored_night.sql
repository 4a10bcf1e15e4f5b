-- The latest night with scores.
select max(snapshot_date) from account_scores
