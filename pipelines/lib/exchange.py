"""What crosses shards: each shard's run publishes the nights it built of the tables night-level
steps read, as one Parquet file per table, night and shard; a night-level run reads them back as
temporary views named like the tables, so its SQL is the one-warehouse SQL.

A DuckDB file is opened by one process at a time, and only by its own shard's runs: no run ever
waits for, or reads half of, another shard's night. A file is written whole under a temporary
name and renamed into place, so a night-level reader sees a shard's night entirely or not at all;
a rerun of the shard's night replaces its files. The folder is local (or a shared volume);
object storage needs the changes listed in deploy/README.md (DuckDB reads the same paths there,
but the folder is made, listed and renamed in with local file calls here).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb

from pipelines import settings
from pipelines.lib.shards import Shard
from pipelines.lib.warehouse import run_sql, table_exists

# table -> its night column: the per-account tables night-level steps read
SHARD_TABLES = {
    "account_snapshots": "snapshot_date",
    "customers_history": "landing_date",
    "bureau_scores": "landing_date",
    "contact_events": "landing_date",
    "account_features": "snapshot_date",
    "account_scores": "snapshot_date",
    "account_reason_codes": "snapshot_date",
}
# reference feeds every shard loads whole: night-level steps read shard 0's copy
REFERENCE_TABLES = {"fx_rates": "rate_date", "macro_indicators": "landing_date"}
# each shard's record of its run, read at night level merged: `book_<table>` views
SHARD_RECORDS = {"ingest_log": "snapshot_date", "scoring_status": "snapshot_date",
                 "quarantine": "snapshot_date"}
PUBLISHED_TABLES = frozenset(SHARD_TABLES) | frozenset(REFERENCE_TABLES) | frozenset(SHARD_RECORDS)


def exchange_dir() -> Path:
    return settings.overdue_home() / "exchange"


def publish(conn: duckdb.DuckDBPyConnection, shard: Shard, table: str, nights: list[date]) -> int:
    """Write the shard's `nights` of `table` for night-level steps; returns the files written.
    Nothing is written for a book of one shard, whose steps read the table itself."""
    night_column = {**SHARD_TABLES, **REFERENCE_TABLES, **SHARD_RECORDS}[table]
    if not shard.sharded or not table_exists(conn, table):
        return 0
    if table in REFERENCE_TABLES and shard.index != 0:
        return 0
    for night in nights:
        folder = exchange_dir() / table / night.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"{shard.label}.parquet"
        partial = folder / f".{shard.label}.parquet.tmp"
        run_sql(conn, "exchange/publish_night", {"night": night}, table=table,
                night_column=night_column, path=str(partial).replace("'", "''"))
        os.replace(partial, final)
    return len(nights)


def _quoted(table: str, pattern: str) -> str:
    return "'" + str(exchange_dir() / table / "*" / f"{pattern}.parquet").replace("'", "''") + "'"


def read_shards(conn: duckdb.DuckDBPyConnection, count: int) -> list[str]:
    """Temporary views over every shard's published nights, one per table that has any."""
    first = Shard(0, count).label
    made = []
    for table in [*SHARD_TABLES, *REFERENCE_TABLES]:
        pattern = "*" if table in SHARD_TABLES else first
        if not any((exchange_dir() / table).glob(f"*/{pattern}.parquet")):
            continue
        listed = _quoted(table, pattern)
        run_sql(conn, "exchange/create_shards_view", table=table, files=listed)
        made.append(table)
    for table in SHARD_RECORDS:
        if any((exchange_dir() / table).glob("*/*.parquet")):
            run_sql(conn, f"exchange/create_book_{table}", files=_quoted(table, "*"),
                    first_shard=first, own=table_exists(conn, table),
                    reference_feeds=", ".join(f"'{feed}'" for feed in REFERENCE_TABLES))
            made.append(f"book_{table}")
    return made


def book_table(conn: duckdb.DuckDBPyConnection, table: str) -> str:
    """The name night-level SQL reads a shard record by: `book_<table>` on a split book (every
    shard's record, merged), the table itself on a book of one."""
    return f"book_{table}" if table_exists(conn, f"book_{table}") else table
