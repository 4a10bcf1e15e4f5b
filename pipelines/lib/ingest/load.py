"""One feed-night from landing file to warehouse: all rows loaded or quarantined, in one transaction.

Idempotent by design: the night's partition is replaced (DELETE + INSERT) inside one
transaction, and a file already loaded under the same contract version is a no-op.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines import settings
from pipelines.lib.ingest.contracts import REFERENCE_KINDS, Contract, feeds, load_contract
from pipelines.lib.ingest.inventory import (
    CONTROL_SUFFIX,
    Unrecognised,
    file_unsettled,
    find_landing_file,
    night_of,
    scan_feed,
    stray_landing_entries,
)
from pipelines.lib.ingest.landing import (
    RAW_RECORD_LIMIT,
    FileRejected,
    LandedFile,
    read_landing_file,
)
from pipelines.lib.ingest.row_checks import run_row_checks
from pipelines.lib.shards import WHOLE_BOOK, Shard
from pipelines.lib.sql import bind, quote_identifier, render_sql
from pipelines.lib.warehouse import load_macros, run_sql, transaction

log = logging.getLogger(__name__)

LATEST_VIEWS = {"customers": "customers"}


def table_name(contract: Contract) -> str:
    """Feeds with a latest-version view keep every version in `<feed>_history`."""
    return f"{contract.feed}_history" if contract.feed in LATEST_VIEWS else contract.feed


class MissingLandingFile(Exception):
    """A required feed has no file for the night."""


class LandingFileNotReady(Exception):
    """The night's file is still being written, or waits for its required control file."""


@dataclass
class IngestResult:
    feed: str
    night: date
    status: str  # loaded | unchanged | rejected | absent
    source_file: str | None = None
    sha256: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    contract_version: str = ""
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)
    message: str = ""
    landed: LandedFile | None = field(default=None, repr=False, compare=False)
    rows_skipped: int = 0  # keys another night loaded (contract skipKeysLoadedEarlier)

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined + self.rows_skipped


def ensure_warehouse(conn: duckdb.DuckDBPyConnection, shard: Shard = WHOLE_BOOK) -> None:
    """Create every ingest table (and the customers view) that does not exist yet."""
    load_macros(conn)
    conn.execute(render_sql("ingest/create_quarantine"))
    conn.execute(render_sql("ingest/create_ingest_log"))
    run_sql(conn, "shared/add_column", table="ingest_log", column="rows_skipped",
            column_type="bigint")
    for feed in feeds():
        contract = load_contract(feed)
        conn.execute(render_sql(
            "ingest/create_feed_table", table=table_name(contract),
            columns=contract.columns, file_date_column=contract.file_date_column,
            shard_by=contract.shard_by))
        # a warehouse built under an older contract version gets its new optional columns
        present = {row[0] for row in run_sql(conn, "shared/table_columns",
                                             {"table_name": table_name(contract)}).fetchall()}
        for column in contract.columns:
            if column.name not in present:
                run_sql(conn, "shared/add_column", table=table_name(contract),
                        column=column.name, column_type=column.duckdb_type)
        if contract.shard_by and "shard" not in present:
            if shard.sharded:
                raise RuntimeError(
                    f"{table_name(contract)} was built before the book was split into shards: "
                    "a split book is built again from its landing files, one shard at a time")
            run_sql(conn, "ingest/add_shard_column", table=table_name(contract))
    conn.execute(render_sql("ingest/create_customers_view"))


def _already_loaded(conn, contract: Contract, landed: LandedFile, base: dict) -> tuple | None:
    # fetchall, not fetchone: a result left unfinished makes DuckDB refuse the next register()
    found = run_sql(conn, "ingest/select_loaded_file",
                    base | {"contract_version": contract.version}).fetchall()
    if not found:
        return None
    logged = found[0]
    if logged[2] and any(rule.kind in REFERENCE_KINDS for rule in contract.rules):
        # rows may have been quarantined against another table that has grown since (an outcome
        # for a contact planned later in a backfill): the file is checked again
        return None
    ((count,),) = run_sql(conn, "ingest/count_feed_partition", base, table=table_name(contract),
                          partition_column=contract.partition_column).fetchall()
    return logged if count == logged[1] else None


def _log_entry(conn, base: dict, result: IngestResult) -> None:
    run_sql(conn, "ingest/delete_ingest_log_file", base)
    run_sql(conn, "ingest/insert_ingest_log", base | {
        "status": result.status, "rows_read": result.rows_read, "rows_loaded": result.rows_loaded,
        "rows_quarantined": result.rows_quarantined, "rows_skipped": result.rows_skipped,
        "contract_version": result.contract_version,
        "message": result.message, "ingested_at": datetime.now(UTC),
    })


def _insert_records(conn, base: dict, records: list[dict]) -> None:
    if not records:
        return
    table = pa.Table.from_pylist(records, schema=pa.schema([
        ("row_number", pa.int64()), ("column_name", pa.string()), ("rule", pa.string()),
        ("message", pa.string()), ("raw_record", pa.string())]))
    conn.register("records", table)
    run_sql(conn, "ingest/insert_quarantine_records", base)
    conn.unregister("records")


def record_rejection(conn, contract: Contract, path: Path, night: date, error: FileRejected) -> IngestResult:
    """Log a rejected file and quarantine it as one whole-file entry; data tables stay as they were."""
    sha = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""
    base = {"feed": contract.feed, "file_date": night, "source_file": str(path), "sha256": sha}
    result = IngestResult(contract.feed, night, "rejected", str(path), sha,
                          contract_version=contract.version, message=f"{error.message} [{error.rule}]")
    with transaction(conn):
        run_sql(conn, "ingest/delete_quarantine_file", base)
        _insert_records(conn, base, [{"row_number": None, "column_name": None, "rule": error.rule,
                                      "message": error.message, "raw_record": None}])
        _log_entry(conn, base, result)
    return result


def landing_unrecognised(landing: Path, feed: str, max_gap_days: int) -> list[Unrecognised]:
    """The feed folder's unrecognised entries; the first required feed also reports the entries
    under `landing/` that are no feed folder."""
    # only account_snapshots nights start partitions, so only there is a far-off night isolated
    entries = scan_feed(landing, feed, max_gap_days if feed == "account_snapshots" else None
                        ).unrecognised
    if feed == feeds_in_order()[0]:
        entries += stray_landing_entries(landing, feeds_in_order())
    return entries


def feeds_in_order() -> list[str]:
    return sorted(feeds(), key=lambda feed: (not load_contract(feed).required_feed, feed))


def record_unrecognised(conn, contract: Contract, night: date, entries: list[Unrecognised]) -> None:
    """One `ingest_log` row per unrecognised entry (status unrecognised, 0 rows), for the night."""
    ensure_warehouse(conn)
    base = {"feed": contract.feed, "file_date": night}
    with transaction(conn):
        run_sql(conn, "ingest/delete_unrecognised_entries", base)
        for entry in entries:
            run_sql(conn, "ingest/insert_ingest_log", base | {
                "source_file": str(entry.path), "sha256": "", "status": "unrecognised",
                "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "rows_skipped": 0,
                "contract_version": contract.version, "message": entry.reason,
                "ingested_at": datetime.now(UTC)})


def read_control(control: Path) -> dict[str, str]:
    """A control file's `key=value` lines (`rows`, `sha256`); blank and `#` lines are skipped."""
    values = {}
    for number, line in enumerate(control.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise FileRejected(control, "file_control_mismatch",
                               f"control file {control.name} line {number} is not key=value")
        values[key.strip().lower()] = value.strip()
    if "rows" in values and not values["rows"].isdigit():
        raise FileRejected(control, "file_control_mismatch",
                           f"control file {control.name}: rows={values['rows']!r} is not a count")
    return values


def _check_control(path: Path, control: dict[str, str]) -> None:
    expected = control.get("sha256", "").lower()
    if expected:
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != expected:
            raise FileRejected(path, "file_control_mismatch",
                               f"sha256 of the file is {actual}, its control file says {expected}:"
                               " the file is incomplete or not the one the control describes")


def keep_shard(conn: duckdb.DuckDBPyConnection, contract: Contract, landed: LandedFile,
               shard: Shard) -> LandedFile:
    """The landed file as one shard reads it: its customers' rows; shard 0 also keeps the rows
    that could not be parsed into columns (no customer id to route them by), to quarantine."""
    if not (shard.sharded and contract.shard_by):
        return landed
    conn.register("landed", landed.table)
    try:
        sql = render_sql("ingest/shard_rows", shard_by=contract.shard_by)
        table = conn.sql(sql, params=bind(sql, {"shard": shard.index, "shards": shard.count})
                         ).to_arrow_table()
    finally:
        conn.unregister("landed")
    return replace(landed, table=table,
                   structural_rejects=landed.structural_rejects if shard.index == 0 else [])


def ingest_file(conn: duckdb.DuckDBPyConnection, contract: Contract, path: Path,
                control: dict[str, str] | None = None, shard: Shard = WHOLE_BOOK) -> IngestResult:
    """Load one landing file (the rows of `shard`'s customers, when the book is split). Raises
    FileRejected (after recording it) for a file-level defect, including a file that does not
    match its control file (checked before anything loads, on the whole file)."""
    ensure_warehouse(conn, shard)
    try:
        if control is not None:
            _check_control(path, control)
        landed = read_landing_file(path, contract)
        if control is not None and "rows" in control and landed.rows_read != int(control["rows"]):
            raise FileRejected(path, "file_control_mismatch",
                               f"{landed.rows_read} data records read, its control file says"
                               f" rows={control['rows']}")
    except FileRejected as error:
        record_rejection(conn, contract, path, night_of(path), error)
        raise
    landed = keep_shard(conn, contract, landed, shard)
    base = {"feed": contract.feed, "file_date": landed.night, "source_file": str(path),
            "sha256": landed.sha256}
    logged = _already_loaded(conn, contract, landed, base)
    if logged is not None:
        return IngestResult(contract.feed, landed.night, "unchanged", str(path), landed.sha256,
                            *logged, contract_version=contract.version,
                            message="identical file already loaded", landed=landed)
    run_row_checks(conn, contract, landed)  # fills the temp tables the statements below read
    structural = [{"row_number": r.row_number, "column_name": r.column, "rule": r.rule,
                   "message": r.message, "raw_record": r.raw_record}
                  for r in landed.structural_rejects]
    table = table_name(contract)
    try:
        with transaction(conn):
            run_sql(conn, "ingest/delete_feed_partition", base, table=table,
                    partition_column=contract.partition_column)
            extras = _extras(contract, landed)
            skip = {"table": table, "partition_column": contract.partition_column,
                    "skip_key": contract.skip_keys_loaded_earlier}
            ((rows_skipped,),) = (run_sql(conn, "ingest/count_skipped_keys", base,
                                          **skip).fetchall()
                                  if skip["skip_key"] else ((0,),))
            run_sql(conn, "ingest/insert_clean_rows",
                    base | {extra["param"]: extra["name"] for extra in extras}
                    | ({"shards": shard.count} if contract.shard_by else {}),
                    columns=contract.columns, file_date_column=contract.file_date_column,
                    extras=extras, cluster_by=contract.cluster_by, shard_by=contract.shard_by,
                    **skip)
            run_sql(conn, "ingest/delete_quarantine_night", base)
            run_sql(conn, "ingest/insert_quarantine_violations",
                    base | {"raw_record_limit": RAW_RECORD_LIMIT})
            _insert_records(conn, base, structural)
            (rows_loaded,) = run_sql(conn, "ingest/count_feed_partition", base, table=table,
                                     partition_column=contract.partition_column).fetchone()
            by_rule = dict(run_sql(conn, "ingest/count_violations_by_rule").fetchall())
            (flagged_rows,) = run_sql(conn, "ingest/count_violating_rows").fetchone()
            for reject in landed.structural_rejects:
                by_rule[reject.rule] = by_rule.get(reject.rule, 0) + 1
            notes = list(landed.notes)
            if rows_skipped:
                notes.append(f"{rows_skipped} row(s) skipped: their "
                             f"{contract.skip_keys_loaded_earlier} was loaded on another night")
            if landed.absent_optional_columns:
                notes.append("optional column(s) absent, loaded as null: "
                             + ", ".join(landed.absent_optional_columns))
            result = IngestResult(
                contract.feed, landed.night, "loaded", str(path), landed.sha256,
                rows_read=landed.rows_read, rows_loaded=rows_loaded,
                rows_quarantined=flagged_rows + len(structural), contract_version=contract.version,
                quarantined_by_rule=by_rule, message="; ".join(notes), landed=landed,
                rows_skipped=rows_skipped)
            if not result.reconciles:
                raise RuntimeError(
                    f"{path}: rows read {result.rows_read} != loaded {result.rows_loaded}"
                    f" + quarantined {result.rows_quarantined}; nothing was committed")
            run_sql(conn, "ingest/mark_replaced_files", base)
            _log_entry(conn, base, result)
    finally:
        for name in ("landed", "contract_rules"):
            conn.unregister(name)
    log.info("%s %s: read %d, loaded %d, quarantined %d", contract.feed, landed.night,
             result.rows_read, result.rows_loaded, result.rows_quarantined)
    return result


def _extras(contract: Contract, landed: LandedFile) -> list[dict]:
    known = set(contract.column_names) | {"__row_number"}
    extras = [c for c in landed.table.column_names if c not in known
              and contract.keep_extra_columns]
    return [{"ident": quote_identifier(name), "param": f"extra_{i}", "name": name}
            for i, name in enumerate(extras)]


def ingest_night(conn: duckdb.DuckDBPyConnection, feed: str, night: date, landing: Path,
                 shard: Shard = WHOLE_BOOK) -> IngestResult:
    """Ingest a feed's file for one night; a missing required file raises MissingLandingFile."""
    contract = load_contract(feed)
    path = find_landing_file(landing, feed, night)
    if path is None:
        if contract.required_feed:
            raise MissingLandingFile(
                f"required feed {feed} has no file for {night}: expected "
                f"{landing / feed / (night.isoformat() + '.csv')} (or .csv.gz, .parquet, .xlsx)")
        return IngestResult(feed, night, "absent", contract_version=contract.version,
                            message="optional feed: no file tonight")
    control_path = path.with_name(path.name + CONTROL_SUFFIX)
    control = None
    if control_path.is_file():
        try:
            control = read_control(control_path)
        except FileRejected as error:
            record_rejection(conn, contract, path, night, error)
            raise
    elif settings.control_files() == "required":
        raise LandingFileNotReady(f"{path}: waiting for its control file {control_path.name}"
                                  " (OVERDUE_CONTROL_FILES=required); nothing loaded")
    else:
        unsettled = file_unsettled(path, settings.landing_settle_seconds(), wait=True)
        if unsettled:
            raise LandingFileNotReady(unsettled)
    return ingest_file(conn, contract, path, control, shard)
