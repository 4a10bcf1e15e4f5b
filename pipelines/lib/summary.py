"""A plain-text account of what the warehouse holds, for the demo and for operators.

Counts and rules only: no customer field is ever printed.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines import settings
from pipelines.lib.exchange import book_table, read_shards
from pipelines.lib.sql import render_sql
from pipelines.lib.warehouse import WarehouseUnavailable

NIGHTLY_TABLES = (
    ("account_snapshots", "snapshot_date"),
    ("customers_history", "landing_date"),
    ("contact_events", "landing_date"),
    ("contact_outcomes", "landing_date"),
    ("account_features", "snapshot_date"),
    ("roll_rates", "snapshot_date"),
    ("flow_rates", "snapshot_date"),
    ("portfolio_daily", "snapshot_date"),
    ("vintage_curves", "snapshot_date"),
    ("account_scores", "snapshot_date"),
    ("account_reason_codes", "snapshot_date"),
    ("model_monitoring", "snapshot_date"),
)


def warehouse_summary(path: Path) -> str:
    if not path.exists():
        return f"no warehouse at {path}\n"
    try:
        return _warehouse_summary(path)
    except duckdb.Error as error:  # DuckDB's message for a damaged block omits the file
        first_line = str(error).strip().splitlines()[0]
        raise WarehouseUnavailable(f"warehouse {path} could not be read ({first_line})") from error


def _warehouse_summary(path: Path) -> str:
    conn = duckdb.connect(str(path), read_only=True)
    if settings.shard_count() > 1:
        read_shards(conn, settings.shard_count())
    try:
        lines = [f"warehouse {path}"]
        present = {name for (name,) in conn.execute(render_sql("shared/list_tables")).fetchall()}
        for table, night_column in NIGHTLY_TABLES:
            if table not in present:
                continue
            nights, first, last, rows = conn.execute(render_sql(
                "ingest/summary_table", table=table, night_column=night_column)).fetchone()
            lines.append(f"  {table:<20} {rows:>12,} rows over {nights:>4} night(s) {first} .. {last}")
        if "portfolio_daily" in present:
            lines += _book_lines(conn.execute(render_sql("ingest/summary_portfolio")).fetchall())
        if {"contact_outcomes", "contact_history"} <= present:
            lines += _outcome_lines(conn.execute(render_sql("collections/summary_outcomes"))
                                    .fetchall())
        lines.append("ingest log (files): " + ", ".join(
            f"{status} {count}" for status, count in conn.execute(render_sql(
                "ingest/summary_ingest_status", ingest_log=book_table(conn, "ingest_log")))
            .fetchall()))
        unrecognised = conn.execute(render_sql("ingest/summary_unrecognised")).fetchall()
        if unrecognised:
            lines.append("unrecognised landing entries (not read), as last seen:")
            lines += [f"  {last_seen} {feed:<18} {file}: {reason}"
                      for feed, file, last_seen, reason in unrecognised]
        if {"ingest_log", "volume_checks", "volume_acceptances"} <= present:
            lines += _volume_lines(conn)
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


def _outcome_lines(rows: list[tuple]) -> list[str]:
    """Outcomes by source and outcome, and planned contacts by status (issue 19)."""
    lines = []
    for kind, title in (("outcome", "contact outcomes"), ("status", "planned contacts by status")):
        counts = [f"{name} {n:,}" for k, name, n in rows if k == kind]
        if counts:
            lines.append(f"{title}: " + ", ".join(counts))
    return lines


def _volume_lines(conn) -> list[str]:
    """Per recent night: accounts loaded, the change against the previous night, the gate."""
    rows = conn.execute(render_sql("ingest/summary_volume"), {"feed": "account_snapshots"}).fetchall()
    if not rows:
        return []
    lines = ["volume (account_snapshots), latest nights:"]
    for night, loaded, previous_night, previous_rows, outcome, accepted_by in rows:
        change = (f"{(loaded - previous_rows) / previous_rows:+.1%} against {previous_rows:,} on "
                  f"{previous_night}" if previous_rows else "no previous night")
        gate = f"accepted by {accepted_by}" if outcome == "accepted" else outcome
        lines.append(f"  {night} {loaded:>10,} accounts  {change}  gate {gate}")
    return lines


def _share(value) -> str:
    return "–" if value is None else f"{value:.2%}"


def _book_lines(rows: list[tuple]) -> list[str]:
    """The latest book: in the reporting currency (with the rates used), or, when a currency has
    no rate, counts only; then each currency in its own. Never a raw sum across currencies."""
    lines = []
    for (night, currency, amount_currency, rates_used, missing, accounts, balance, r30, r60, r90,
         r30b, npl, writeoffs, writeoff_balance, new_writeoffs) in rows:
        if currency == "all":
            head = f"book on {night} ({amount_currency}"
            head += f"; {rates_used})" if rates_used else ")"
            amount = (f"loan balance {balance:,.2f} {amount_currency}" if balance is not None
                      else f"no {amount_currency} total: no exchange rate for {missing}")
            written = (f"{writeoffs:,} written off ({writeoff_balance:,.2f} {amount_currency})"
                       if writeoff_balance is not None else f"{writeoffs:,} written off")
        else:
            head = f"  {currency}"
            amount = f"loan balance {balance:,.2f} {currency}"
            written = f"{writeoffs:,} written off ({writeoff_balance:,.2f} {currency})"
        lines.append(
            f"{head}: {accounts:,} loans on book, {amount}; 30+ {_share(r30)}, 60+ {_share(r60)}, "
            f"90+ {_share(r90)} of accounts; 30+ {_share(r30b)} of balance; NPL ratio "
            f"{_share(npl)}; {written}; {new_writeoffs} new write-off(s)")
    return lines


def model_summary(registry_root: Path, warehouse: Path, night=None) -> str:
    """The champion, its card figures and gate, and what it said about the night's book
    (default: the latest scored night)."""
    from models.registry import ModelRegistry

    registry = ModelRegistry(registry_root)
    cards = registry.list()
    if not cards:
        return "model: none registered yet (not enough matured labels)\n"
    champion = registry.champion()
    lines = ["model registry " + str(registry_root) + ": " + ", ".join(
        f"{c['version']} {c['status']} (as of {c['data_window']['as_of']}, AUC "
        f"{c['metrics']['validation']['auc']:.4f})" for c in cards)]
    gates = [e for e in registry.events() if e["event"] == "gate"]
    if gates:
        last = gates[-1]
        lines.append(f"last gate: {last['version']} vs {last['against'] or 'no champion'}: "
                     f"{'promoted' if last['promote'] else 'kept as challenger'}; "
                     + "; ".join(last["reasons"]))
    if champion:
        card = registry.card(champion)
        metrics = card["metrics"]["validation"]
        window = card["data_window"]["validation"]
        lines.append(f"champion {champion}: out-of-time {window['first_night']}..{window['last_night']}"
                     f" ({window['rows']:,} rows): AUC {metrics['auc']:.4f}, Gini {metrics['gini']:.4f}"
                     f", KS {metrics['ks']:.4f}, Brier {metrics['brier']:.4f}; card "
                     f"{registry_root / champion / 'card.md'}")
    conn = duckdb.connect(str(warehouse), read_only=True)
    if settings.shard_count() > 1:
        read_shards(conn, settings.shard_count())
    try:
        present = {name for (name,) in conn.execute(render_sql("shared/list_tables")).fetchall()}
        if "account_scores" in present and night is None:
            night = conn.execute(render_sql("model/latest_scored_night")).fetchone()[0]
        if "account_scores" in present:
            grades = conn.execute(render_sql("model/summary_grades"), {"night": night}).fetchall()
            if grades:
                lines.append(f"scores on {night}: " + ", ".join(
                    f"{grade or 'unscored'} {count:,}" for grade, count, _, _ in grades)
                    + f"; early warning {sum(g[2] for g in grades):,}; needing reasons "
                    f"{sum(g[3] for g in grades):,}")
        if "account_reason_codes" in present:
            top = conn.execute(render_sql("model/summary_top_reasons"), {"night": night}).fetchall()
            if top:
                lines.append("most frequent first reasons: " + "; ".join(
                    f"{feature} ({count:,})" for feature, count in top))
        if "model_monitoring" in present:
            alerts = conn.execute(render_sql("model/summary_alerts"), {"night": night}).fetchall()
            lines.append("monitoring alerts: " + (", ".join(
                f"{measure} {subject} {value:.3f} ({status})"
                for measure, subject, value, status in alerts) or "none"))
    finally:
        conn.close()
    return "\n".join(lines) + "\n"
