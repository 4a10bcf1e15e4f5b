"""Outside agencies and the legal track (issue 19): placements night by night, the placement
files each agency receives, the legal split of the write-off review, recoveries after write-off.

Placements are state carried from night to night (a rotation or recall depends on the nights
before), so a run replays its nights in order from its first: a rerun of a night leaves the table
and that night's files as they were. Plain Python over a connection; no Dagster here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines import settings
from pipelines.lib.collections import tiering
from pipelines.lib.collections.agency_strategy import RECALL_REASONS
from pipelines.lib.collections.strategy import Strategy
from pipelines.lib.sql import render_sql
from pipelines.lib.warehouse import query, replace_nights, run_sql, table_exists, transaction

TABLES = ("agency_placements", "legal_review", "post_write_off_recoveries")
# the order a recall reason wins in when several land together: the legal stops first
RECALL_ORDER = ("deceased", "bankruptcy", "dispute", "complaint", "payment")
_NIGHT_FOLDER = re.compile(r"^(\d{4}-\d{2}-\d{2})$")


def placements_out_dir() -> Path:
    """Where the nightly placement files go, one folder per night, one file per agency."""
    return settings.overdue_home() / "out" / "placements"


def ensure_tables(conn: duckdb.DuckDBPyConnection) -> None:
    for table in TABLES:
        run_sql(conn, f"agencies/create_{table}")


def has_outcomes(conn: duckdb.DuckDBPyConnection) -> bool:
    """contact_outcomes (the outcomes feed) is there, with contact_history to place each
    outcome's contact on its account."""
    return table_exists(conn, "contact_outcomes") and table_exists(conn, "contact_history")


def register(conn: duckdb.DuckDBPyConnection, strategy: Strategy) -> None:
    agencies = strategy.agencies
    conn.register("agency_shares", agencies.shares_table())
    conn.register("legal_rules", agencies.legal_table())
    conn.register("recall_rules", pa.Table.from_pylist(
        [{"reason": r, "priority": RECALL_ORDER.index(r)} for r in RECALL_REASONS
         if r in agencies.recall_on],
        schema=pa.schema([("reason", pa.string()), ("priority", pa.int32())])))
    conn.register("strategy_jurisdictions", pa.Table.from_pylist(
        [{"jurisdiction": j} for j in strategy.jurisdictions],
        schema=pa.schema([("jurisdiction", pa.string())])))


def _nights(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def build_placements(conn: duckdb.DuckDBPyConnection, strategy: Strategy, start: date,
                     end: date) -> int:
    """Replay nights start..end of agency_placements: end the placements that must end, then
    place. A rerun of an earlier night replays every night after it the table has seen too, so
    later nights keep their placements. Returns the placements made in the replayed nights (0
    when the strategy places nothing)."""
    ensure_tables(conn)
    agencies = strategy.agencies
    params = {"start_date": start}
    latest = run_sql(conn, "agencies/latest_night").fetchone()[0]
    end = max(end, latest) if latest is not None else end
    with transaction(conn):
        run_sql(conn, "agencies/undo_placements_from", params)
        run_sql(conn, "agencies/undo_recalls_from", params)
        if agencies is None:
            run_sql(conn, "agencies/return_all_placements", {"night": start})
            return 0
        register(conn, strategy)
        outcomes = has_outcomes(conn)
        before = run_sql(conn, "shared/count_rows", table="agency_placements").fetchall()[0][0]
        for night in _nights(start, end):
            night_params = {
                "night": night, "recall_on": list(agencies.recall_on),
                "buckets": list(agencies.buckets), "seed": agencies.seed,
                "rotation_days": agencies.rotation_days,
                "replace_after_days": agencies.replace_after_days,
                "default_jurisdiction": strategy.default_jurisdiction,
                "dispute_lookback_days": strategy.suppression_lookback.get("open_dispute"),
                "strategy_version": strategy.version}
            run_sql(conn, "agencies/create_agency_triggers", night_params,
                    has_outcomes=outcomes)
            run_sql(conn, "agencies/end_placements", night_params)
            run_sql(conn, "agencies/insert_placements", night_params)
        return run_sql(conn, "shared/count_rows", table="agency_placements").fetchall()[0][0] - before


def placement_counts(conn: duckdb.DuckDBPyConnection, night: date):
    return query(conn, "agencies/placement_counts", {"night": night})


@dataclass(frozen=True)
class PlacementFiles:
    folder: Path
    rows: dict[str, int]  # agency -> placements in its file tonight
    recalls: dict[str, int]  # agency -> placements ended tonight in its recalls file
    written: int
    unchanged: int


def _csv_bytes(header: list[str], rows: list[tuple]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v
                         for v in row])
    return buffer.getvalue().encode("utf-8")


def _files_by_agency(conn: duckdb.DuckDBPyConnection, sql: str, night: date,
                     header: list[str], suffix: str) -> dict[str, tuple[int, bytes]]:
    cursor = run_sql(conn, sql, {"night": night})
    names = [d[0] for d in cursor.description]
    by_agency: dict[str, list[tuple]] = {}
    for row in cursor.fetchall():
        record = dict(zip(names, row, strict=True))
        by_agency.setdefault(record["agency_id"], []).append(tuple(record[f] for f in header))
    return {f"{agency}{suffix}": (len(rows), _csv_bytes(header, rows))
            for agency, rows in by_agency.items()}


def write_placement_files(conn: duckdb.DuckDBPyConnection, strategy: Strategy, night: date,
                          out: Path) -> PlacementFiles:
    """`out/<night>/<agency>.csv` per agency with placements tonight: placement_id and the
    strategy's placement_fields, nothing else; `<agency>.recalls.csv` per agency with
    placements ended tonight (placement_id, account_reference, ended_date, status, reason), so
    it stops work on them. A file already holding the same bytes is left alone (a rerun rewrites
    nothing); an agency with nothing tonight has no file."""
    folder = out / night.isoformat()
    fields = list(strategy.agencies.placement_fields) if strategy.agencies else []
    contents = _files_by_agency(conn, "agencies/placement_file_rows", night,
                                ["placement_id", *fields], ".csv")
    contents |= _files_by_agency(
        conn, "agencies/recall_file_rows", night,
        ["placement_id", "account_reference", "ended_date", "status", "reason"], ".recalls.csv")
    written = unchanged = 0
    if contents:
        folder.mkdir(parents=True, exist_ok=True)
    for name, (_, data) in contents.items():
        target = folder / name
        if target.is_file() and target.read_bytes() == data:
            unchanged += 1
            continue
        temporary = folder / f"{name}.tmp"
        temporary.write_bytes(data)
        os.chmod(temporary, settings.personal_file_mode())
        temporary.replace(target)
        written += 1
    if folder.is_dir():
        # a file no longer wanted, or one half-written by a run that was killed
        for stale in [*folder.glob("*.csv"), *folder.glob("*.tmp")]:
            if stale.name not in contents:
                stale.unlink()
    return PlacementFiles(
        folder, {n.removesuffix(".csv"): rows for n, (rows, _) in contents.items()
                 if not n.endswith(".recalls.csv")},
        {n.removesuffix(".recalls.csv"): rows for n, (rows, _) in contents.items()
         if n.endswith(".recalls.csv")}, written, unchanged)


def purge_placements(out: Path, before: date, *, now: datetime | None = None) -> list[dict]:
    """Remove the placement files (personal data) of every night before `before`; the folder
    keeps purged.json (each file's sha256 and size, and when). The placements table stays."""
    now = now or datetime.now(UTC)
    purged = []
    folders = sorted(p for p in out.iterdir() if p.is_dir()) if out.is_dir() else []
    for folder in folders:
        match = _NIGHT_FOLDER.match(folder.name)
        if not match or date.fromisoformat(match.group(1)) >= before:
            continue
        removed = []
        for path in sorted(folder.glob("*.csv")):
            removed.append({"path": path.name,
                            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                            "bytes": path.stat().st_size})
            path.unlink()
        if not removed:
            continue
        record = folder / "purged.json"
        earlier = json.loads(record.read_text(encoding="utf-8")) if record.exists() else {}
        record.write_text(json.dumps({
            "night": match.group(1), "before": before.isoformat(),
            "purged_at": now.isoformat(timespec="seconds"),
            "files": earlier.get("files", []) + removed}, indent=2) + "\n", encoding="utf-8")
        os.chmod(record, settings.personal_file_mode())
        purged.append({"folder": folder.name, "files": len(removed),
                       "bytes": sum(f["bytes"] for f in removed)})
    return purged


def build_legal_review(conn: duckdb.DuckDBPyConnection, strategy: Strategy, start: date,
                       end: date) -> int:
    """Replace nights start..end of legal_review (empty when the strategy has no legal rules)."""
    ensure_tables(conn)
    tiering.register_strategy(conn, strategy)
    if strategy.agencies is None:
        conn.register("legal_rules", pa.Table.from_pylist([], schema=pa.schema([
            ("jurisdiction", pa.string()), ("currency", pa.string()),
            ("min_balance", pa.float64()), ("litigation_min_balance", pa.float64()),
            ("contactable_track", pa.string()), ("uncontactable_track", pa.string()),
            ("contact_lookback_days", pa.int32())])))
    else:
        register(conn, strategy)
    sql = render_sql("agencies/legal_review", has_outcomes=has_outcomes(conn))
    return replace_nights(conn, "legal_review", start, end, sql,
                          {"strategy_version": strategy.version})


def build_post_write_off_recoveries(conn: duckdb.DuckDBPyConnection, start: date,
                                    end: date) -> int:
    ensure_tables(conn)
    sql = render_sql("agencies/post_write_off_recoveries",
                     has_placements=table_exists(conn, "agency_placements"))
    return replace_nights(conn, "post_write_off_recoveries", start, end, sql)
