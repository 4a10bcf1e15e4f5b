"""Account-level credit-quality features: the query, its data dictionary and a small runner.

The query is `sql/features/account_features.sql`; its header comment is the data dictionary, one
`--   <column>: <definition>` line per output column.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa

from pipelines.lib.features.data_dictionary import table_definitions
from pipelines.lib.sql import bind, render_sql
from pipelines.lib.warehouse import load_macros

ACCOUNT_FEATURES_SQL = "features/account_features"


def feature_dictionary(sql_name: str = ACCOUNT_FEATURES_SQL) -> list[tuple[str, str]]:
    """(column, definition) in the order of the query's header comment (see data_dictionary)."""
    return list(table_definitions(sql_name).items())


def account_features_statement(start_date: date, end_date: date) -> tuple[str, dict]:
    """The feature query for the nights in [start_date, end_date] and the parameters it binds."""
    sql = render_sql(ACCOUNT_FEATURES_SQL)
    return sql, bind(sql, {"start_date": start_date, "end_date": end_date})




def account_features(conn: duckdb.DuckDBPyConnection, start_date: date, end_date: date) -> pa.Table:
    """One row per (snapshot_date, account_id) for the nights in [start_date, end_date]."""
    load_macros(conn)
    sql, params = account_features_statement(start_date, end_date)
    return conn.sql(sql, params=params).to_arrow_table()
