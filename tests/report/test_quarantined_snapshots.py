"""The report's quarantine reconciliation reads a record the reader could not split (raw CSV
text, not JSON) as a row of unknown balance, instead of failing the report (issue 18)."""

from datetime import date

import duckdb

from pipelines.lib.ingest.load import ensure_warehouse
from pipelines.lib.sql import render_sql

NIGHT = date(2026, 11, 27)


def test_a_raw_text_record_counts_with_an_unknown_balance():
    conn = duckdb.connect()
    ensure_warehouse(conn)
    rows = [
        (1, "balance_type", '{"currency": "cny", "balance": "120.50"}'),
        (2, "row_unbalanced_quote", '2026-11-27,AC00001430,CU0001315,"revolving,2026-01-01'),
        (3, "row_field_count", "2026-11-27,AC00001431"),
    ]
    for number, rule, raw in rows:
        conn.execute(
            "insert into quarantine values ('account_snapshots', ?, 'f.csv', 'x', ?, null, ?, "
            "'m', ?)", [NIGHT, number, rule, raw])
    result = conn.execute(render_sql("report/quarantined_snapshots"), {"night": NIGHT}).fetchall()
    assert sorted(result, key=str) == sorted(
        [("CNY", 1, 1, 120.50), (None, 2, 0, 0)], key=str)
