"""Paths and tunables: one place, each overridable by an environment variable."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = REPO_ROOT / "sql"
CONTRACTS_DIR = REPO_ROOT / "data_contracts"
TEMPLATES_DIR = REPO_ROOT / "reports"

FEEDS_REQUIRED = ("account_snapshots", "customers")
FEEDS_OPTIONAL = ("contact_events",)


def overdue_home() -> Path:
    """`$OVERDUE_HOME`, default `<repo>/var`; read at call time so tests can point it elsewhere."""
    return Path(os.environ.get("OVERDUE_HOME", REPO_ROOT / "var")).resolve()


def landing_dir() -> Path:
    return overdue_home() / "landing"


def truth_dir() -> Path:
    return overdue_home() / "truth"


def warehouse_path() -> Path:
    return Path(os.environ.get("OVERDUE_WAREHOUSE", overdue_home() / "warehouse.duckdb")).resolve()


def registry_dir() -> Path:
    return overdue_home() / "registry"


def dagster_home() -> Path:
    return overdue_home() / "dagster_home"


def first_partition_date(default: str = "2020-01-01") -> str:
    """Earliest night with an account_snapshots file, so partitions start where the data does.

    `OVERDUE_START_DATE` pins it (useful when landing is empty at definition load).
    """
    pinned = os.environ.get("OVERDUE_START_DATE")
    if pinned:
        return pinned
    feed_dir = landing_dir() / "account_snapshots"
    nights = sorted(p.stem for p in feed_dir.glob("????-??-??.*")) if feed_dir.is_dir() else []
    return nights[0] if nights else default


def duckdb_config() -> dict[str, str]:
    """DuckDB settings for warehouse connections: a memory cap (DuckDB spills to disk above it)."""
    return {"memory_limit": os.environ.get("OVERDUE_DUCKDB_MEMORY_LIMIT", "3GB")}


def warehouse_lock_wait_seconds() -> float:
    """How long a run waits for a warehouse file another process (not a run) keeps locked."""
    return float(os.environ.get("OVERDUE_WAREHOUSE_LOCK_WAIT_SECONDS", "60"))
