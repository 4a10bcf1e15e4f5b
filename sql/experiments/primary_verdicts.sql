-- Each experiment arm's verdict on its pre-registered metric on night $night (asset metadata).
select experiment_id, arm, metric, verdict
from experiment_results
where snapshot_date = $night and primary_metric and arm <> 'champion'
order by experiment_id, arm
