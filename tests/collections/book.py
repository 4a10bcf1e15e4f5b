"""A hand-made book in a real DuckDB warehouse, run night by night through the collections library
(the same calls the Dagster assets make): ingest tables filled by name, account_features from the
real feature SQL, optional account_scores / account_reason_codes rows, then tiers, plan, batch.
"""

import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.lib.collections import tiering
from pipelines.lib.collections.batch import BatchSummary, write_batch
from pipelines.lib.collections.strategy import load_strategy
from pipelines.lib.features.account_features import account_features
from pipelines.lib.ingest.load import ensure_warehouse

STRATEGY = load_strategy()
_ids = itertools.count(1)

SCORES = """create table if not exists account_scores (
    snapshot_date date, account_id varchar, probability double, risk_grade varchar,
    early_warning boolean, model_version varchar)"""
REASONS = """create table if not exists account_reason_codes (
    snapshot_date date, account_id varchar, rank integer, feature varchar, contribution double,
    value varchar, reason_zh varchar, reason_en varchar, model_version varchar)"""


def snapshot(night: date, number: int, dpd: int = 0, *, customer: int | None = None,
             **values) -> dict:
    """Account AC<number> of customer CU<customer or number>; delinquent when dpd > 0."""
    row = {
        "snapshot_date": night, "account_id": f"AC{number:08d}",
        "customer_id": f"CU{(customer or number):07d}", "product": "revolving",
        "open_date": date(2025, 1, 15), "status": "open", "currency": "CNY",
        "credit_limit": 10000.0, "balance": 5432.10, "amount_due": 250.0,
        "past_due_amount": 250.0 if dpd else 0.0, "days_past_due": dpd,
        "next_due_date": night + timedelta(days=17), "payment_amount": 0.0,
        "last_payment_date": date(2026, 1, 18),
    }
    row.update(values)
    return row


def customer(number: int, night: date, **values) -> dict:
    row = {
        "landing_date": night, "customer_id": f"CU{number:07d}", "full_name": "欧阳娜娜",
        "mobile_phone": f"+86138{number:08d}", "email": f"c{number}@example.cn",
        "postal_address": f"朝阳区建国路{number}号", "city": "北京", "region": "北京",
        "postal_code": "100022", "country": "CN", "preferred_language": "zh-CN",
        "timezone": "Asia/Shanghai",
    }
    row.update(values)
    return row


def event(kind: str, landed: date, number: int, *, account: bool = True, channel=None,
          until: date | None = None) -> dict:
    return {
        "landing_date": landed, "event_id": f"E{next(_ids)}",
        "event_time": datetime.combine(landed, datetime.min.time(), UTC) + timedelta(hours=3),
        "customer_id": f"CU{number:07d}", "account_id": f"AC{number:08d}" if account else None,
        "event_type": kind, "channel": channel, "amount": None, "until_date": until,
    }


def insert(conn: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    if rows:
        staged = pa.Table.from_pylist(
            [row | {"source_file": "test", "source_row": i} for i, row in enumerate(rows, 1)])
        conn.append(table, staged.to_pandas(), by_name=True)


def append(conn: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    if rows:
        conn.append(table, pa.Table.from_pylist(rows).to_pandas(), by_name=True)


def warehouse(snapshots: list[dict], customers: list[dict], events: list[dict] = (),
              scores: list[dict] | None = None, reasons: list[dict] | None = None,
              path: Path | None = None) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(path) if path else ":memory:")
    ensure_warehouse(conn)
    insert(conn, "account_snapshots", snapshots)
    insert(conn, "customers_history", customers)
    insert(conn, "contact_events", list(events))
    nights = sorted({row["snapshot_date"] for row in snapshots})
    features = account_features(conn, nights[0], nights[-1])  # noqa: F841 (read by name below)
    conn.execute("create table account_features as select * from features")
    if scores is not None:
        conn.execute(SCORES)
        append(conn, "account_scores", scores)
    if reasons is not None:
        conn.execute(REASONS)
        append(conn, "account_reason_codes", reasons)
    return conn


def run_night(conn: duckdb.DuckDBPyConnection, night: date, out: Path | None = None
              ) -> BatchSummary | None:
    """One night as the assets run it: tiers, merge the feed's calls, plan, then the batch."""
    tiering.build_tiers(conn, STRATEGY, night, night)
    tiering.plan_nights(conn, STRATEGY, night, night)
    if out is None:
        return None
    tiering.register_strategy(conn, STRATEGY)
    return write_batch(conn, STRATEGY, night, out, write_pdfs=False)


def tier_row(conn: duckdb.DuckDBPyConnection, night: date, number: int) -> dict:
    cursor = conn.execute("select * from collection_tiers where snapshot_date = ? and "
                          "account_id = ?", [night, f"AC{number:08d}"])
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def planned(conn: duckdb.DuckDBPyConnection, night: date, number: int) -> list[tuple]:
    return conn.execute(
        "select channel, coalesce(template, queue) from contact_history where source = 'plan' "
        "and snapshot_date = ? and account_id = ? order by 1", [night, f"AC{number:08d}"]
    ).fetchall()
