"""One run at a time per warehouse, and a clear error when the warehouse file cannot be opened.

DuckDB allows one writer process per file, but each asset opens and closes its own connection, so
two runs of the same night launched together (the sensor and the 02:00 schedule, or a person and
the schedule) would interleave their steps between connections. A run therefore holds an
exclusive `flock` on `<warehouse>.lock` from its first connection to its end; the kernel releases
it when the process ends, also after a kill -9, so there is never a stale lock to clean up.
"""

from __future__ import annotations

import fcntl
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb


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
