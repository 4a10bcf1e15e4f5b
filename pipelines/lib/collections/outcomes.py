"""What became of the contacts: the contact_outcomes feed applied to contact_history (issue 19).

Runs before the night's tiers, so tonight's plan already knows what the last contacts achieved:
the returned work lists join contact_outcomes, each contact takes the status its outcomes
reached, and failed destinations are marked in bad_destinations. The suppressions these feed
(promise_to_pay, open_dispute, complaint, hardship, bad_destination) are read by
sql/collections/collection_tiers.sql and plan_contacts.sql. Counts only leave this module.
"""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.lib.collections.tiering import ensure_tables
from pipelines.lib.ingest.load import ensure_warehouse
from pipelines.lib.warehouse import run_sql, transaction


def apply_outcomes(conn: duckdb.DuckDBPyConnection, start: date, end: date) -> dict:
    """Merge the returned work lists of nights start..end, apply every outcome loaded on them;
    rerunning a range gives the same tables. Returns counts by outcome, status and channel."""
    ensure_warehouse(conn)
    ensure_tables(conn)
    params = {"start_date": start, "end_date": end}
    with transaction(conn):
        run_sql(conn, "collections/delete_work_list_outcomes", params)
        run_sql(conn, "collections/merge_work_list_outcomes", params)
        run_sql(conn, "collections/apply_contact_outcomes", params)
        run_sql(conn, "collections/delete_bad_destinations", params)
        run_sql(conn, "collections/insert_bad_destinations", params)
    return {
        "outcomes": {f"{source}:{outcome}": n for source, outcome, n in run_sql(
            conn, "collections/outcome_counts", params).fetchall()},
        "statuses": dict(run_sql(conn, "collections/contact_status_counts", params).fetchall()),
        "bad_destinations": dict(run_sql(conn, "collections/count_bad_destinations",
                                         params).fetchall()),
    }
