"""The promise ledger: every promise to pay followed to kept or broken by the snapshots' payments.

The ledger is built for one as-of night from the feeds and snapshots landed by then
(sql/collections/promises.sql): promises settled long before stay, every other one is decided
again, so a rerun, a backfill and night-by-night runs leave the same table; `resolved_night`
keeps each decision's night, so an earlier night's view is still known.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from pipelines import settings
from pipelines.lib.sql import render_sql
from pipelines.lib.warehouse import insert_rows, query, run_sql, table_exists, transaction

STATUSES = ("open", "kept", "broken", "superseded", "unverifiable")


def ensure_table(conn: duckdb.DuckDBPyConnection) -> None:
    run_sql(conn, "collections/create_promises")


def ledger_query(conn: duckdb.DuckDBPyConnection) -> str:
    """The ledger's SELECT; contact_outcomes joins in only where that feed has been loaded."""
    has_outcomes = (table_exists(conn, "contact_outcomes")
                    and table_exists(conn, "contact_history"))
    return render_sql("collections/promises", has_outcomes=has_outcomes,
                      has_tiers=table_exists(conn, "collection_tiers"))


def as_of_night(conn: duckdb.DuckDBPyConnection, night: date) -> date:
    """The night a run builds the ledger for: `night`, or the later night it already stands at."""
    ensure_table(conn)
    return run_sql(conn, "collections/promises_as_of", {"night": night}).fetchone()[0]


def build_promises(conn: duckdb.DuckDBPyConnection, as_of: date,
                   grace_days: int | None = None) -> int:
    """Replace the ledger with its state as of `as_of`; returns the promises it holds."""
    ensure_table(conn)
    params = {"as_of": as_of, "lender_timezone": settings.timezone(),
              "grace_days": settings.promise_grace_days() if grace_days is None else grace_days}
    rows = ledger_query(conn)
    with transaction(conn):
        run_sql(conn, "collections/delete_unsettled_promises", params)
        run_sql(conn, "collections/update_promises_as_of", params)
        insert_rows(conn, "promises", rows, params)
    return int(run_sql(conn, "collections/count_promises").fetchone()[0])


def by_status(conn: duckdb.DuckDBPyConnection, night: date) -> pd.DataFrame:
    """Promises by status and currency as they stood on `night`."""
    return query(conn, "collections/promises_by_status", {"night": night})
