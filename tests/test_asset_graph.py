"""The code location's shape, as a reviewed file: asset keys, groups, owners, deps, checks,
partitions, pool, backfill policy, the job, the schedule and the sensor. A change to the graph
shows in review as a change to `tests/snapshots/asset_graph.json`; write it anew with
`UPDATE_SNAPSHOTS=1 pytest tests/test_asset_graph.py` and read the diff before committing."""

import json
import os
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def graph_shape() -> dict:
    from pipelines.definitions import defs

    repo = defs().get_repository_def()
    shape: dict = {"assets": {}}
    for node in sorted(repo.asset_graph.asset_nodes, key=lambda n: n.key.to_user_string()):
        assets = repo.assets_defs_by_key.get(node.key)
        checks = {}
        if assets is not None:
            for spec in assets.check_specs:
                checks[spec.name] = "blocking" if spec.blocking else "warn or pass"
        shape["assets"][node.key.to_user_string()] = {
            "group": node.group_name,
            "executable": node.is_executable,
            "owners": list(node.owners),
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "kinds": sorted(node.kinds),
            "partitions": repr(node.partitions_def),
            "backfill_policy": repr(node.backfill_policy),
            "pool": sorted(assets.op.pools) if assets is not None and assets.is_executable else [],
            "checks": dict(sorted(checks.items())),
        }
    job = repo.get_job("nightly")
    shape["job"] = {"name": job.name, "executor": job.executor_def.name,
                    "partitions": repr(job.partitions_def),
                    "assets": sorted(k.to_user_string() for k in job.asset_layer.executable_asset_keys)}
    shape["schedules"] = [{"name": s.name, "cron": s.cron_schedule, "timezone": s.execution_timezone,
                           "job": s.job_name, "default_status": s.default_status.value}
                          for s in repo.schedule_defs]
    shape["sensors"] = [{"name": s.name, "job": s.job_name, "interval": s.minimum_interval_seconds,
                         "default_status": s.default_status.value} for s in repo.sensor_defs]
    shape["resources"] = sorted(repo.get_top_level_resources())
    return shape


def test_the_asset_graph_is_the_reviewed_one():
    shape = graph_shape()
    text = json.dumps(shape, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert text == SNAPSHOT.read_text(encoding="utf-8"), (
        "the asset graph changed: run UPDATE_SNAPSHOTS=1 pytest tests/test_asset_graph.py and "
        "review the diff of tests/snapshots/asset_graph.json")


def test_every_asset_is_partitioned_by_night_in_the_warehouse_pool():
    shape = graph_shape()
    executable = {k: a for k, a in shape["assets"].items() if a["executable"]}
    assert len(executable) >= 19
    assert {a["partitions"] for a in executable.values()} == {shape["job"]["partitions"]}
    assert {tuple(a["pool"]) for a in executable.values()} == {("warehouse",)}
    assert {a["backfill_policy"] for a in executable.values()} == {
        "BackfillPolicy(max_partitions_per_run=None)"}  # a backfill's range is one run
    assert all("team:risk-data" in a["owners"] for a in executable.values())
