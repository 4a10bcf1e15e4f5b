"""Report 9.x, offers: payment plans and settlements made, accepted, declined, running, kept,
broken and completed, and their money per currency (counts and amounts only)."""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.lib.report import formatting as fmt
from pipelines.lib.warehouse import query

ORDER = 30
NAME = "offers"
COUNTS = ("made", "accepted", "declined", "expired", "running", "kept", "broken", "completed")
AMOUNTS = ("running_balance", "scheduled", "paid", "missed", "waived")


def collect(conn: duckdb.DuckDBPyConnection, night: date, tables: set[str]) -> dict | None:
    if not {"offers", "offer_instalments"} <= set(tables):
        return None
    counts = query(conn, "report/offers/offer_counts", {"night": night})
    if counts.empty:
        return None
    return {"counts": counts,
            "amounts": query(conn, "report/offers/offer_amounts", {"night": night})}


def tables(frames: dict, text: dict, language: str, currency: str) -> dict:
    """Counts by type, the acceptance rate of decided offers, and money per type and currency,
    each amount in its own currency."""
    t = text.get(NAME, {})
    types = t.get("types", {})
    counts = [[types.get(r["type"], r["type"]), *(fmt.number(r[c]) for c in COUNTS),
               fmt.percent(r["ever_accepted"] / r["ever_decided"]) if r["ever_decided"] else "–"]
              for r in frames["counts"].to_dict("records")]
    amounts = [[types.get(r["type"], r["type"]), r["currency"],
                *(fmt.money(r[c], r["currency"], 2) for c in AMOUNTS)]
               for r in frames["amounts"].to_dict("records")]
    return {"count_headers": [t.get("type", "type"), *(t.get(c, c) for c in COUNTS),
                              t.get("acceptance_rate", "acceptance rate")],
            "counts": counts,
            "amount_headers": [t.get("type", "type"), t.get("currency", "currency"),
                               *(t.get(c, c) for c in AMOUNTS)],
            "amounts": amounts}
