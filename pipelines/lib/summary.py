"""A plain-text account of what the warehouse holds, for the demo and for operators.

Counts and rules only: no customer field is ever printed.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.lib.sql import render_sql


NIGHTLY_TABLES = (
    ("account_snapshots", "snapshot_date"),
    ("customers_history", "landing_date"),
    ("contact_events", "landing_date"),
    ("account_features", "snapshot_date"),
    ("roll_rates", "snapshot_date"),
    ("flow_rates", "snapshot_date"),
    ("portfolio_daily", "snapshot_date"),
    ("vintage_curves", "snapshot_date"),
)


def warehouse_summary(path: Path) -> str:
    if not path.exists():
        return f"no warehouse at {path}\n"
    conn = duckdb.connect(str(path), read_only=True)
    try:
        lines = [f"warehouse {path}"]
        present = {name for (name,) in conn.execute(render_sql("ingest/list_tables")).fetchall()}
        for table, night_column in NIGHTLY_TABLES:
            if table not in present:
                continue
            nights, first, last, rows = conn.execute(render_sql(
                "ingest/summary_table", table=table, night_column=night_column)).fetchone()
            lines.append(f"  {table:<20} {rows:>12,} rows over {nights:>4} night(s) {first} .. {last}")
        if "portfolio_daily" in present:
            latest = conn.execute(render_sql("ingest/summary_portfolio")).fetchone()
            if latest:
                night, accounts, balance, r30, r60, r90, r30b, writeoffs = latest
                lines.append(
                    f"book on {night}: {accounts:,} accounts, balance {balance:,.2f}; 30+ {r30:.2%}, "
                    f"60+ {r60:.2%}, 90+ {r90:.2%} of accounts; 30+ {r30b:.2%} of balance; "
                    f"{writeoffs} new write-off(s)")
        lines.append("ingest log (files): " + ", ".join(
            f"{status} {count}" for status, count in conn.execute(
                render_sql("ingest/summary_ingest_status")).fetchall()))
        quarantined = conn.execute(render_sql("ingest/summary_quarantine")).fetchall()
        if quarantined:
            lines.append("quarantine, by night, feed and rule:")
            lines += [f"  {night} {feed:<18} {rule:<45} {rows:>6} row(s)  {file}"
                      for night, feed, rule, rows, file in quarantined]
        else:
            lines.append("quarantine: empty")
        return "\n".join(lines) + "\n"
    finally:
        conn.close()
