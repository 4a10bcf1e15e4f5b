"""A running experiment in real Dagster runs: the challenger's overlay reaches challenger
accounts only, every contact records its arm, and experiment_results is materialized."""

import hashlib
from datetime import date

import dagster as dg
import duckdb
import pytest
import yaml

from pipelines.lib.sql import render_sql as sql_text
from tests.conftest import customer_row, snapshot_row, use_home, write_night

NIGHT = date(2026, 5, 3)
CUSTOMERS = 12
SELECTION = ["account_snapshots", "customers", "contact_events", "account_features",
             "collection_tiers", "contact_history", "experiment_results"]
EXPERIMENT = {
    "id": "sms_only", "hypothesis": "SMS alone cures M1 low-risk accounts as well",
    "metric": "cure_30d", "sample_size": 6, "start_date": "2026-05-01",
    "end_date": "2026-06-30", "seed": 3, "status": "running",
    "arms": {"challenger": {"share": 0.5, "changes": {"treatments": {"T1": {"contacts": [
        {"channel": "sms", "template": "soft_notice", "cadence": {"every_days": 7}}]}}}}},
}

pytestmark = pytest.mark.slow


def arm_of(customer_id: str) -> str:
    u = int(hashlib.sha256(f"3|sms_only|{customer_id}".encode()).hexdigest()[:15], 16) / 16 ** 15
    return "challenger" if u < 0.5 else "champion"


def test_materialized_night_applies_the_overlay_to_challengers_only(tmp_path, monkeypatch):
    from pipelines.definitions import defs

    use_home(monkeypatch, tmp_path)
    folder = tmp_path / "experiments"
    folder.mkdir()
    (folder / "sms_only.yaml").write_text(yaml.safe_dump(EXPERIMENT), encoding="utf-8")
    monkeypatch.setenv("OVERDUE_EXPERIMENTS_DIR", str(folder))
    snapshots = [snapshot_row(NIGHT, n, days_past_due="12", past_due_amount="250.00")
                 for n in range(1, CUSTOMERS + 1)]
    customers = [customer_row(n, mobile_phone=f"+8613800138{n:03d}", email=f"c{n}@example.cn")
                 for n in range(1, CUSTOMERS + 1)]
    write_night(tmp_path, NIGHT, snapshots, customers)
    definitions = defs()
    result = dg.materialize(
        [a for a in definitions.assets if isinstance(a, dg.AssetsDefinition)],
        selection=SELECTION, partition_key=NIGHT.isoformat(),
        resources=definitions.resources, raise_on_error=False)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks["experiment_arms_consistent"]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        tiers = dict(conn.execute("select customer_id, arm from collection_tiers").fetchall())
        contacts = conn.execute(
            "select customer_id, arm, list(channel order by channel) from contact_history "
            "where source = 'plan' group by all").fetchall()
        results = conn.execute("select arm, accounts, verdict from experiment_results "
                               "where metric = 'cure_30d' order by arm").fetchall()
    want = {f"CU{n:07d}": arm_of(f"CU{n:07d}") for n in range(1, CUSTOMERS + 1)}
    assert tiers == want
    assert {"challenger", "champion"} <= set(want.values())
    assert len(contacts) == CUSTOMERS
    for customer_id, arm, channels in contacts:
        assert arm == want[customer_id]
        assert channels == (["sms"] if arm == "challenger" else ["email", "sms"])
    challengers = list(want.values()).count("challenger")
    # the check finds a contact whose arm is not its tier row's
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:
        conn.execute("update contact_history set arm = 'champion' where arm = 'challenger'")
        offending = conn.execute(sql_text("checks/assert_experiment_arms_consistent"),
                                 {"start_date": NIGHT, "end_date": NIGHT}).fetchall()
    assert len(offending) == challengers and {r[0] for r in offending} == {"contact_history"}
    assert results == [("challenger", challengers, "too early"),
                       ("champion", CUSTOMERS - challengers, None)]
