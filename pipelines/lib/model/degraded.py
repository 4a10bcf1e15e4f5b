"""Degraded mode: a night the model stage cannot score runs on the delinquency bucket alone.

Why: a model failure must never stop collections (issue 18). When there is no champion (too few
matured nights, a refused first model, a retrain that raised) or scoring itself raises, the
night gets no scores; collection_tiers then tiers every account on its bucket (no high-risk or
early-warning treatments), and the night is declared degraded in `scoring_status`, on the
assets' metadata, as the run tag `overdue/degraded` and at the top of the risk report.

Causes are keys (the report shows them in words); their detail is the exception's type and the
first line of its message, never a traceback: messages reach the UI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

from pipelines.lib.sql import render_sql
from pipelines.lib.warehouse import (
    delete_nights,
    replace_nights,
    run_sql,
    table_exists,
    transaction,
)

CAUSES = {
    "not_enough_data": "not enough matured data for a first model",
    "first_model_refused": "the first model was refused by the gate (no champion)",
    "retrain_failed": "the retrain failed (no champion)",
    "scoring_failed": "scoring failed",
    "no_champion": "no champion model in the registry",
}
DETAIL_CHARACTERS = 160
RUN_TAG = "degraded"  # the run tag overdue/degraded (pipelines.defs.metadata.flag_run)
SCORE_TABLES = ("account_scores", "account_reason_codes")


@dataclass(frozen=True)
class Degraded:
    """Why a night has no scores: a cause key of CAUSES and its particulars."""

    cause: str
    detail: str = ""

    def __post_init__(self):
        if self.cause not in CAUSES:
            raise ValueError(f"unknown degraded-mode cause {self.cause!r}; known: {list(CAUSES)}")

    def text(self) -> str:
        return CAUSES[self.cause] + (f": {self.detail}" if self.detail else "")


def short(text: str) -> str:
    """The first line of `text`, at most DETAIL_CHARACTERS long."""
    lines = str(text).strip().splitlines()
    line = lines[0].strip() if lines else ""
    return line if len(line) <= DETAIL_CHARACTERS else line[:DETAIL_CHARACTERS - 1] + "…"


def failure_detail(error: BaseException) -> str:
    """`Type: first line of the message`, short: what the UI and the report may show."""
    message = short(str(error))
    return short(type(error).__name__ + (f": {message}" if message else ""))


def ensure_table(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(render_sql("model/create_scoring_status"))


def each_night(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def record(conn: duckdb.DuckDBPyConnection, nights: list[date], degraded: Degraded | None,
           model_version: str | None = None) -> None:
    """The run's nights are scored by `model_version`, or degraded for `degraded`'s cause."""
    ensure_table(conn)
    every = each_night(nights[0], nights[-1])
    rows = pd.DataFrame({
        "snapshot_date": every,
        "scored": degraded is None,
        "degraded": degraded is not None,
        "cause": degraded.cause if degraded else None,
        "detail": (degraded.detail or None) if degraded else None,
        "model_version": None if degraded else model_version,
    })
    replace_nights(conn, "scoring_status", nights[0], nights[-1], rows)


def clear_scores(conn: duckdb.DuckDBPyConnection, start: date, end: date) -> None:
    """Remove the nights' scores and reason codes (a degraded night has none, also on a rerun)."""
    from pipelines.lib.model.nightly import ensure_model_tables

    ensure_model_tables(conn)
    with transaction(conn):
        for table in SCORE_TABLES:
            delete_nights(conn, table, start, end)


def night_status(conn: duckdb.DuckDBPyConnection, night: date) -> Degraded | None:
    """The night's declared degraded mode, or None (scored, or never declared: a warehouse
    built before scoring_status has no declaration)."""
    from pipelines.lib.exchange import book_table

    table = book_table(conn, "scoring_status")
    if not table_exists(conn, table):
        return None
    row = run_sql(conn, "report/scoring_status", {"night": night}, scoring_status=table).fetchone()
    if row is None or not row[0]:
        return None
    return Degraded(row[1], row[2] or "")
