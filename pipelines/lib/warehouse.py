"""The warehouse plumbing every stage shares: run a SQL file with bound values, a transaction,
replace a set of nights, and one run at a time per warehouse file.

One run at a time: DuckDB allows one writer process per file, but each asset opens and closes its
own connection, so two runs of the same night launched together (the sensor and the 02:00
schedule, or a person and the schedule) would interleave their steps between connections. A run
therefore holds an exclusive `flock` on `<warehouse>.lock` from its first connection to its end;
the kernel releases it when the process ends, also after a kill -9, so there is never a stale lock
to clean up.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pipelines import settings
from pipelines.lib.sql import bind, render_sql

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


class WarehouseUnavailable(Exception):
    """The warehouse cannot be used by this run; the message names the file and what to do."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


class RunLock:
    """An exclusive lock on a warehouse for the life of one run (or until `release`)."""

    def __init__(self, warehouse: Path, holder: str):
        self.warehouse = warehouse
        self.holder = holder
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        path = lock_path(self.warehouse)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 1000, 0).decode("utf-8", "replace").strip() or "unknown"
            os.close(fd)
            raise WarehouseUnavailable(
                f"warehouse {self.warehouse} is in use by another run ({other}); this run "
                "changed nothing: wait for that run to end, then start this one again") from None
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, {self.holder}, started {started}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def is_lock_conflict(error: duckdb.Error) -> bool:
    return "lock" in str(error).lower()


def connect(warehouse: Path, wait_seconds: float, **kwargs) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect`, waiting up to `wait_seconds` while another process holds the file.

    A damaged or foreign file fails at once (DuckDB cannot open it however long we wait), naming
    the file; a lock still held after the wait names the file and DuckDB's account of the holder.
    """
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    while True:
        try:
            return duckdb.connect(str(warehouse), **kwargs)
        except duckdb.IOException as error:
            first_line = str(error).strip().splitlines()[0]
            if not is_lock_conflict(error):
                raise WarehouseUnavailable(
                    f"warehouse {warehouse} cannot be opened, it is damaged or not a DuckDB "
                    f"file ({first_line}); move it away to rebuild from the landing files, or "
                    "restore it from a backup") from error
            if time.monotonic() + delay > deadline:
                raise WarehouseUnavailable(
                    f"warehouse {warehouse} is locked by another process after waiting "
                    f"{wait_seconds:g} s ({first_line})") from error
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def run_sql(conn: duckdb.DuckDBPyConnection, name: str, params: dict | None = None,
            **context) -> duckdb.DuckDBPyConnection:
    """Execute `sql/<name>.sql`, rendered with `context` (identifiers only), with the values of
    `params` that the statement uses bound as parameters."""
    sql = render_sql(name, **context)
    return conn.execute(sql, bind(sql, params or {}))


def query(conn: duckdb.DuckDBPyConnection, name: str, params: dict | None = None,
          **context) -> pd.DataFrame:
    """The rows of `sql/<name>.sql` as a data frame (see `run_sql`)."""
    return run_sql(conn, name, params, **context).df()


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: committed when the block ends, rolled back if anything in it fails (also
    on KeyboardInterrupt), so a failure never leaves half a night behind."""
    conn.execute("begin transaction")
    try:
        yield conn
    except BaseException:
        conn.execute("rollback")
        raise
    conn.execute("commit")


def own_transaction(conn: duckdb.DuckDBPyConnection):
    """`transaction(conn)`, or nothing when the caller already holds one (DuckDB does not nest
    them: the caller's then commits or rolls back the whole)."""
    try:
        conn.execute("begin transaction")
    except duckdb.TransactionException:
        return nullcontext(conn)
    conn.execute("rollback")
    return transaction(conn)


def load_macros(conn: duckdb.DuckDBPyConnection, folder: str = "shared/macros") -> None:
    """Create every macro of `sql/<folder>/` (one per file) on the connection: the domain
    definitions (buckets, one month earlier, five-class grading) that stages share."""
    for path in sorted((settings.SQL_DIR / folder).glob("*.sql")):
        run_sql(conn, f"{folder}/{path.stem}")


def offending_rows(conn: duckdb.DuckDBPyConnection, check: str, params: dict | None = None,
                   **context) -> pd.DataFrame:
    """The rows `sql/checks/<check>.sql` returns: the offenders (a check passes on none)."""
    load_macros(conn)
    return query(conn, f"checks/{check}", params, **context)


def table_exists(conn: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(run_sql(conn, "shared/table_exists", {"table_name": name}).fetchone()[0])


def has_rows_for_night(conn: duckdb.DuckDBPyConnection, table: str, night,
                       present: set[str]) -> bool:
    """`table` (one of the `present` tables, so a missing one costs no query) has a row for the
    night: a section or figure that reads it can be built."""
    if table not in present:
        return False
    rows = query(conn, "shared/rows_for_night", {"night": night}, table=table)
    return int(rows["rows"].iloc[0]) > 0


def insert_rows(conn: duckdb.DuckDBPyConnection, table: str,
                rows: str | pd.DataFrame | pa.Table, params: dict | None = None) -> None:
    """Append `rows` to `table`, columns matched by name: `rows` is a SELECT statement (its
    $parameters bound from `params`) or a frame."""
    if isinstance(rows, str):
        run_sql(conn, "shared/insert_by_name", params, table=table, query=rows)
        return
    if len(rows):
        conn.register("rows_to_insert", rows)
        try:
            run_sql(conn, "shared/insert_frame", table=table, frame="rows_to_insert")
        finally:
            conn.unregister("rows_to_insert")


def delete_nights(conn: duckdb.DuckDBPyConnection, table: str, start: date, end: date) -> None:
    run_sql(conn, "shared/delete_nights", {"start_date": start, "end_date": end}, table=table)


def count_nights(conn: duckdb.DuckDBPyConnection, table: str, start: date, end: date) -> int:
    return run_sql(conn, "shared/count_nights", {"start_date": start, "end_date": end},
                   table=table).fetchone()[0]


def replace_nights(conn: duckdb.DuckDBPyConnection, table: str, start: date, end: date,
                   rows: str | pd.DataFrame | pa.Table, params: dict | None = None) -> int:
    """Nights [start, end] of `table` become `rows` (see `insert_rows`; $start_date and $end_date
    are bound too), in one transaction, so a rerun of a night leaves the table as it was.
    Returns the rows those nights now hold."""
    params = {"start_date": start, "end_date": end, **(params or {})}
    with transaction(conn):
        delete_nights(conn, table, start, end)
        insert_rows(conn, table, rows, params)
        return count_nights(conn, table, start, end)
