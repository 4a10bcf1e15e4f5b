-- The night's scoring declaration (sql/model/create_scoring_status.sql): degraded or scored.
-- Grain: at most one row (the night's).
--   degraded, cause, detail, model_version
select degraded, cause, detail, model_version
from scoring_status
where snapshot_date = $night
