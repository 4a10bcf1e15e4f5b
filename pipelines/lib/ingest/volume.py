"""Whole-night gates on ingest: a night that loads no accounts, far fewer or more than the night
before, or quarantines most of its rows is stopped before anything downstream reads it.

An operator who knows the change is real (a portfolio sale) accepts it with the run tags
`overdue/accept_volume_change` (the reason) and `overdue/accept_volume_change_by` (who); the
acceptance is recorded in `volume_acceptances` and the gate passes with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from pipelines import settings
from pipelines.lib.sql import render_sql
from pipelines.lib.warehouse import run_sql, transaction

ACCEPT_TAG = "overdue/accept_volume_change"
ACCEPT_BY_TAG = "overdue/accept_volume_change_by"
BAND_FEEDS = ("account_snapshots",)  # customers are "full or changed rows": no count band


@dataclass(frozen=True)
class Acceptance:
    reason: str
    by: str


def acceptance_from_tags(tags: dict) -> Acceptance | None:
    reason = (tags.get(ACCEPT_TAG) or "").strip()
    if not reason:
        return None
    return Acceptance(reason, (tags.get(ACCEPT_BY_TAG) or "").strip() or "unknown")


@dataclass
class GateResult:
    gate: str
    feed: str
    offending: list[dict] = field(default_factory=list)
    accepted: Acceptance | None = None
    judged: dict[date, dict] = field(default_factory=dict)  # every night's figures, passing too

    @property
    def blocked(self) -> bool:
        return bool(self.offending) and self.accepted is None

    @property
    def description(self) -> str:
        if not self.offending:
            return f"{self.feed} {self.gate.replace('_', ' ')} gate: every night within limits"
        first = self.offending[0]["detail"]
        more = len(self.offending) - 1
        text = f"{self.feed} {self.gate.replace('_', ' ')} gate: {first}"
        if more:
            text += f" (and {more} more night(s))"
        if self.accepted:
            text += f"; accepted by {self.accepted.by}: {self.accepted.reason}"
        return text


def ensure_volume_tables(conn) -> None:
    conn.execute(render_sql("ingest/create_volume_checks"))
    conn.execute(render_sql("ingest/create_volume_acceptances"))


def _percent(value: float) -> str:
    return f"{value:+g}%"


def book_volume_gate(conn, feed: str, nights: list[date]) -> GateResult:
    """Loaded rows of each night against the previous night of the feed with rows."""
    ensure_volume_tables(conn)
    lower, upper = settings.volume_band()
    rows = run_sql(conn, "checks/assert_book_volume_within_band", {
        "feed": feed, "start_date": min(nights), "end_date": max(nights),
        "lower_pct": lower, "upper_pct": upper,
        "min_previous": settings.volume_min_accounts()}).fetchall()
    judged = {}
    for night, loaded, previous_night, previous_rows, change, outcome in rows:
        if outcome == "within band":
            detail = "within band"
        elif previous_night is None:
            detail = f"{night}: {loaded:,} accounts loaded, and no earlier night to compare"
        else:
            detail = (f"{night}: {loaded:,} accounts loaded against {previous_rows:,} on "
                      f"{previous_night} ({change:+.1f}%, band {_percent(lower)}..{_percent(upper)})")
        judged[night] = {"night": night, "rows_loaded": loaded, "previous_night": previous_night,
                         "previous_rows": previous_rows, "change_pct": change,
                         "quarantine_share": None, "outcome": outcome, "detail": detail}
    offending = [row for row in judged.values() if row["outcome"] != "within band"]
    return GateResult("book_volume", feed, offending, judged=judged)


def quarantine_share_gate(conn, feed: str, nights: list[date]) -> GateResult:
    ensure_volume_tables(conn)
    share = settings.max_quarantine_share()
    rows = run_sql(conn, "checks/assert_quarantine_share", {
        "feed": feed, "start_date": min(nights), "end_date": max(nights),
        "max_share": share, "min_rows": settings.quarantine_share_min_rows()}).fetchall()
    offending = [{"night": night, "rows_loaded": loaded, "previous_night": None,
                  "previous_rows": None, "change_pct": None, "quarantine_share": observed,
                  "outcome": "above share",
                  "detail": (f"{night}: {quarantined:,} of {read:,} rows quarantined ({observed:.0%},"
                             f" limit {share:.0%}), {loaded:,} loaded; top rules: {top_rules}")}
                 for night, read, loaded, quarantined, observed, top_rules in rows]
    return GateResult("quarantine_share", feed, offending)


def record_gate(conn, result: GateResult, nights: list[date], loaded: dict[date, int],
                run_id: str, acceptance: Acceptance | None) -> GateResult:
    """Write each judged night's outcome (and, when an accepted night offended, the acceptance);
    a rerun of a night replaces its outcome, an acceptance is never removed."""
    result.accepted = acceptance if result.offending else None
    now = datetime.now(UTC)
    by_night = {row["night"]: row for row in result.offending}
    figures = result.judged
    with transaction(conn):
        run_sql(conn, "ingest/delete_volume_checks", {
            "feed": result.feed, "gate": result.gate, "start_date": min(nights),
            "end_date": max(nights)})
        for night in sorted(loaded):
            row = by_night.get(night)
            outcome = "passed" if row is None else ("accepted" if acceptance else "failed")
            known = row or figures.get(night) or {}
            base = {"feed": result.feed, "file_date": night, "gate": result.gate,
                    "rows_loaded": loaded[night], "run_id": run_id,
                    "previous_night": known.get("previous_night"),
                    "previous_rows": known.get("previous_rows"),
                    "detail": known.get("detail", "within limits")}
            run_sql(conn, "ingest/insert_volume_check", base | {
                "outcome": outcome, "change_pct": known.get("change_pct"),
                "quarantine_share": known.get("quarantine_share"), "checked_at": now})
            if row is not None and acceptance:
                run_sql(conn, "ingest/insert_volume_acceptance", base | {
                    "accepted_by": acceptance.by, "reason": acceptance.reason,
                    "accepted_at": now})
    return result
