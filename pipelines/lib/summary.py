"""A plain-text account of what the warehouse holds, for the demo and for operators.

Counts and rules only: no customer field is ever printed.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.lib.sql import render_sql


def warehouse_summary(path: Path) -> str:
    if not path.exists():
        return f"no warehouse at {path}\n"
    conn = duckdb.connect(str(path), read_only=True)
    try:
        lines = [f"warehouse {path}"]
        for table, nights, first, last, rows in conn.execute(
                render_sql("ingest/summary_tables")).fetchall():
            lines.append(f"  {table:<20} {rows:>12,} rows over {nights:>4} night(s) {first} .. {last}")
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
