-- The night's scoring declaration (sql/model/create_scoring_status.sql): degraded or scored.
-- Grain: at most one row (the night's; on a split book, one per distinct shard declaration).
-- {{ scoring_status }}: the table, or on a split book its merged view (pipelines/lib/exchange.py).
--   degraded, cause, detail, model_version
select degraded, cause, detail, model_version
from {{ scoring_status }}
where snapshot_date = $night
