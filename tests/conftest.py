"""Shared fixtures: a temporary $OVERDUE_HOME and hand-written landing files.

Hand-written rows, not the simulator, so each test states its data and its defect.
"""

import csv
import os
from datetime import date
from pathlib import Path

import pytest

from pipelines.lib.ingest.contracts import load_contract

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# Partitions are defined once per process: start them early enough for every test's nights.
os.environ["OVERDUE_START_DATE"] = "2024-01-01"
# Files a test has just written are complete: no second look a few seconds later.
os.environ.setdefault("OVERDUE_LANDING_SETTLE_SECONDS", "0")

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
