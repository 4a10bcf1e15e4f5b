"""Report section 9, promises: how many promises to pay the collectors take and how many are kept.

Reads the promise ledger (`promises`, as the night saw it: a promise decided later is open) and
the feeds' right-party contacts. Staff ids (agent_id) and agency ids are shown; nothing about a
debtor is.
"""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.lib.report.formatting import missing, money, number, percent
from pipelines.lib.warehouse import query

ORDER = 20
NAME = "promises"


def collect(conn: duckdb.DuckDBPyConnection, night: date, tables: set[str]) -> dict | None:
    if "promises" not in tables:
        return None
    context = {"has_outcomes": "contact_outcomes" in tables}
    params = {"night": night}
    return {
        "summary": query(conn, "report/promises_summary", params, **context),
        "kept": query(conn, "report/promises_kept_rates", params),
        "amounts": query(conn, "report/promises_amounts", params),
    }


def _rate(numerator, denominator) -> str:
    return percent(numerator / denominator) if denominator else "–"


def tables(frames: dict, text: dict, language: str, currency: str) -> dict:
    t = text[NAME]
    s = frames["summary"].iloc[0]
    summary = [
        [t["promises_tonight"], number(s.promises_tonight)],
        [t["promises_30d"], number(s.promises_30d)],
        [t["right_party_30d"], number(s.right_party_30d)],
        [t["promise_rate"], _rate(s.promises_30d, s.right_party_30d)],
        [t["open_promises"], number(s.open_promises)],
    ]
    kept = [[t["dimensions"][r.dimension], r.value or t["none_recorded"], number(r.kept),
             number(r.broken), number(r.superseded), number(r.unverifiable),
             "–" if missing(r.kept_rate) else percent(r.kept_rate)]
            for r in frames["kept"].itertuples()]
    amounts = [[r.currency or t["unknown_currency"], number(r.decided),
                money(float(r.promised_amount), r.currency, 2),
                money(float(r.paid_amount), r.currency, 2),
                _rate(float(r.paid_amount), float(r.promised_amount)),
                number(r.open_promises), money(float(r.open_amount), r.currency, 2)]
               for r in frames["amounts"].itertuples()]
    return {"summary": summary, "kept": kept, "amounts": amounts}
