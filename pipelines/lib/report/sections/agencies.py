"""Report 9, outside agencies and the legal track: placements, recalls, recovery per agency and
currency, legal candidates per track, recoveries after write-off. Counts and sums only: no
account, customer or personal data reaches the report."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from pipelines.lib.warehouse import query

ORDER = 40
NAME = "agencies"


def collect(conn: duckdb.DuckDBPyConnection, night: date, tables: set[str]) -> dict | None:
    if not {"agency_placements", "legal_review", "post_write_off_recoveries"} & tables:
        return None
    params = {"night": night}
    frames = {}
    if "agency_placements" in tables:
        frames["placements"] = query(conn, "report/agencies_placements", params)
        frames["ended"] = query(conn, "report/agencies_ended", params)
        frames["recovery"] = query(conn, "report/agencies_recovery", params)
    if "legal_review" in tables:
        frames["legal"] = query(conn, "report/agencies_legal", params)
    if "post_write_off_recoveries" in tables:
        frames["post_write_off"] = query(conn, "report/agencies_post_write_off", params)
    return frames


def _money(value, currency: str) -> str:
    return f"{float(value):,.2f} {currency}"


def _rate(value) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.1%}"


def tables(frames: dict, text: dict, language: str, currency: str) -> dict:
    """Rows for the template; each amount in its own currency (`currency`, the report's, is not
    used: agencies' money is never converted or added across currencies)."""
    t = text.get(NAME, {})
    labels = t.get("labels", {})

    def label(value) -> str:
        return labels.get(value, value) if isinstance(value, str) else ""

    placements = frames.get("placements", pd.DataFrame())
    by_agency = {}
    for row in placements.itertuples():
        entry = by_agency.setdefault(row.agency_id, {"agency": row.agency_id, "total": 0})
        entry[row.status] = int(row.placements)
        entry["total"] += int(row.placements)
    return {
        "placements": [{"agency": e["agency"], "total": e["total"],
                        "active": e.get("active", 0), "recalled": e.get("recalled", 0),
                        "rotated": e.get("rotated", 0), "returned": e.get("returned", 0)}
                       for e in by_agency.values()],
        "ended": [{"status": label(r.status), "reason": label(r.recall_reason),
                   "placements": int(r.placements)}
                  for r in frames.get("ended", pd.DataFrame()).itertuples()],
        "recovery": [{"agency": r.agency_id, "currency": r.currency,
                      "placements": int(r.placements),
                      "placed": _money(r.balance_placed, r.currency),
                      "collected": _money(r.collected, r.currency),
                      "rate": _rate(r.recovery_rate)}
                     for r in frames.get("recovery", pd.DataFrame()).itertuples()],
        "legal": [{"jurisdiction": r.jurisdiction, "track": label(r.track),
                   "reason": label(r.track_reason), "accounts": int(r.accounts),
                   "balance": _money(r.balance, r.currency)}
                  for r in frames.get("legal", pd.DataFrame()).itertuples()],
        "post_write_off": [{"currency": r.currency, "accounts_tonight": int(r.accounts_tonight),
                            "tonight": _money(r.recovered_tonight, r.currency),
                            "accounts": int(r.accounts_to_date),
                            "to_date": _money(r.recovered_to_date, r.currency)}
                           for r in frames.get("post_write_off", pd.DataFrame()).itertuples()],
    }
