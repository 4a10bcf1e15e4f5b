"""Account-level credit-quality features: the query, its data dictionary and a small runner.

The query is `sql/features/account_features.sql`; its header comment is the data dictionary, one
`--   <column>: <definition>` line per output column.
"""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pyarrow as pa

from pipelines.lib.row_checks import bind
from pipelines.lib.sql import render_sql

ACCOUNT_FEATURES_SQL = "features/account_features"
MACROS_SQL = "features/create_macros"

_DEFINITION_LINE = re.compile(r"^--   ([a-z][a-z0-9_]*): (\S.*)$")
_CONTINUATION_LINE = re.compile(r"^--     +(\S.*)$")


def feature_dictionary(sql_name: str = ACCOUNT_FEATURES_SQL) -> list[tuple[str, str]]:
    """(column, definition) for every `--   column: definition` line of the query's header comment.

    The header is the comment block the file opens with; the first line that is not a comment
    ends it. A line indented further than a definition continues it.
    """
    entries: list[tuple[str, str]] = []
    for line in render_sql(sql_name).splitlines():
        if not line.startswith("--"):
            break
        if match := _DEFINITION_LINE.match(line):
            entries.append((match.group(1), match.group(2).strip()))
        elif entries and (more := _CONTINUATION_LINE.match(line)):
            column, definition = entries[-1]
            entries[-1] = (column, f"{definition} {more.group(1).strip()}")
    return entries


def account_features_statement(start_date: date, end_date: date) -> tuple[str, dict]:
    """The feature query for the nights in [start_date, end_date] and the parameters it binds."""
    sql = render_sql(ACCOUNT_FEATURES_SQL)
    return sql, bind(sql, {"start_date": start_date, "end_date": end_date})


def load_feature_macros(conn: duckdb.DuckDBPyConnection) -> None:
    """Create (or replace) the domain macros the feature queries use."""
    conn.execute(render_sql(MACROS_SQL))


def account_features(conn: duckdb.DuckDBPyConnection, start_date: date, end_date: date) -> pa.Table:
    """One row per (snapshot_date, account_id) for the nights in [start_date, end_date]."""
    load_feature_macros(conn)
    sql, params = account_features_statement(start_date, end_date)
    return conn.sql(sql, params=params).to_arrow_table()
