"""Shared fixtures: a temporary $OVERDUE_HOME and hand-written landing files.

Hand-written rows, not the simulator, so each test states its data and its defect.
"""

import csv
import os
from datetime import date
from pathlib import Path

import pytest
from _pytest.nodeid import NodeId

from pipelines.lib.ingest.contracts import load_contract

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# Partitions are defined once per process: start them early enough for every test's nights.
os.environ["OVERDUE_START_DATE"] = "2024-01-01"
# Files a test has just written are complete: no second look a few seconds later.
os.environ.setdefault("OVERDUE_LANDING_SETTLE_SECONDS", "0")
# Two workers (pytest-xdist) never share a default home: a warehouse file, a Dagster instance.
if WORKER := os.environ.get("PYTEST_XDIST_WORKER"):
    from pipelines.settings import overdue_home

    os.environ["OVERDUE_HOME"] = str(overdue_home() / "workers" / WORKER)
    os.environ["DAGSTER_HOME"] = str(overdue_home() / "dagster_home")

NIGHT = date(2026, 5, 3)

SNAPSHOT_COLUMNS = load_contract("account_snapshots").column_names  # DOMAIN.md §7, in order
CUSTOMER_COLUMNS = load_contract("customers").column_names


def snapshot_row(night: date = NIGHT, number: int = 1, **overrides) -> dict:
    """A valid current account; overrides make it delinquent or break one rule."""
    row = {
        "snapshot_date": night.isoformat(), "account_id": f"AC{number:08d}",
        "customer_id": f"CU{number:07d}", "product": "revolving", "open_date": "2025-01-15",
        "status": "open", "currency": "CNY", "credit_limit": "10000.00", "balance": "2500.50",
        "amount_due": "250.00", "past_due_amount": "0.00", "days_past_due": "0",
        "next_due_date": "2026-05-20", "payment_amount": "0.00", "last_payment_date": "2026-04-18",
    }
    row.update(overrides)
    return row


def customer_row(number: int = 1, **overrides) -> dict:
    row = {
        "customer_id": f"CU{number:07d}", "full_name": "欧阳娜娜", "mobile_phone": "+8613800138000",
        "email": "nana@example.cn", "postal_address": "朝阳区建国路88号, 3单元", "city": "北京",
        "region": "北京", "postal_code": "100022", "country": "CN", "preferred_language": "zh-CN",
        "timezone": "Asia/Shanghai",
    }
    row.update(overrides)
    return row


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = columns or list(rows[0])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_night(home: Path, night: date, snapshots: list[dict], customers: list[dict] | None = None):
    """Landing files for one night: account_snapshots and customers (every account's holder)."""
    snapshot_path = write_csv(home / "landing" / "account_snapshots" / f"{night}.csv", snapshots,
                              SNAPSHOT_COLUMNS + [c for c in snapshots[0] if c not in SNAPSHOT_COLUMNS])
    if customers is None:
        ids = sorted({r["customer_id"] for r in snapshots if r.get("customer_id")})
        customers = [customer_row(int(i[2:])) for i in ids]
    write_csv(home / "landing" / "customers" / f"{night}.csv", customers, CUSTOMER_COLUMNS)
    return snapshot_path


def use_home(patch: pytest.MonkeyPatch, home: Path) -> Path:
    """Point this process's $OVERDUE_HOME and Dagster home at `home` (warehouse inside it)."""
    patch.setenv("OVERDUE_HOME", str(home))
    patch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    patch.delenv("OVERDUE_WAREHOUSE", raising=False)
    return home


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    return use_home(monkeypatch, tmp_path)


# --- running on two cores (pytest-xdist, `-n 2 --dist loadgroup`) ---------------------------------
# A work unit is one module, joined with every module that shares a session fixture of this suite
# (the model book, the report book, the reliability night): each is built on one worker only, and
# a module's own module-scoped fixtures run once. Units start longest first (seconds of one run
# on the 2-core machine under load, 2026-12-07: their proportions matter), so the two workers
# finish together.
UNIT_SECONDS = {
    "tests/model/test_degraded_mode.py": 820, "tests/model/test_model_assets.py": 230,
    "tests/model/test_model_ui.py": 100, "tests/model/test_scoring.py": 60,
    "tests/report/test_report_book.py": 380, "tests/report/test_report_browser.py": 100,
    "tests/report/test_report_layout.py": 130, "tests/reliability/test_kill_and_rerun.py": 140,
    "tests/reliability/test_concurrent_launch.py": 150, "tests/ingest/test_ingest.py": 900,
    "tests/test_cli.py": 330, "tests/tooling/test_bench_night.py": 130,
    "tests/tooling/test_closed_loop.py": 100, "tests/reliability/test_corrected_night.py": 100,
    "tests/reliability/test_late_feed.py": 80, "tests/reliability/test_broken_warehouse.py": 60,
    "tests/ingest/test_faults.py": 100, "tests/tooling/test_simulator.py": 80,
    "tests/tooling/test_simulator_breakdown.py": 60, "tests/collections/test_offers.py": 60,
    "tests/collections/test_gateways.py": 50, "tests/adapters/test_taiwan_import.py": 40,
    "tests/collections/test_batch_isolation.py": 40,
}


def _shared_fixtures(item) -> list[str]:
    tests_dir = str(Path(__file__).parent)
    names = []
    for argname, definitions in item._fixtureinfo.name2fixturedefs.items():
        definition = definitions[-1]
        code = getattr(definition.func, "__code__", None)
        if definition.scope == "session" and code and code.co_filename.startswith(tests_dir):
            names.append(f"{definition.baseid}::{argname}")
    return names


def work_units(items) -> dict[str, str]:
    """nodeid -> its unit's name (the first module of the unit in collection order)."""
    parent: dict[str, str] = {}

    def find(key):
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for item in items:
        module = item.nodeid.split("::")[0]
        for shared in _shared_fixtures(item):
            a, b = find(module), find(shared)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {item.nodeid: find(item.nodeid.split("::")[0]) for item in items}


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Before xdist's own hook, which names each test's unit from its xdist_group mark."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return (yield)
    units = schedule(items)
    result = yield
    # xdist 3.8 names the unit through `item._nodeid`, which pytest 9 no longer reads
    for item in items:
        if "@" not in item.nodeid.rpartition("]")[2]:
            item._id = NodeId.parse(f"{item.nodeid}@{units[item.nodeid]}")
    return result


def schedule(items) -> dict[str, str]:
    """Mark each test with its unit and put the units in order, longest first."""
    units = work_units(items)
    cost: dict[str, float] = {}
    for module in {item.nodeid.split("::")[0] for item in items}:
        unit = units[next(i.nodeid for i in items if i.nodeid.startswith(module + "::"))]
        cost[unit] = cost.get(unit, 0.0) + UNIT_SECONDS.get(module, 1.0)
    for item in items:
        item.add_marker(pytest.mark.xdist_group(units[item.nodeid]))
    first = {unit: position for position, unit in enumerate(dict.fromkeys(units.values()))}
    items.sort(key=lambda item: (-cost[units[item.nodeid]], first[units[item.nodeid]]))
    return units
