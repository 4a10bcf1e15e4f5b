"""Rebuild nights of a SQL-defined table: delete the nights, insert the query, in one transaction.

Plain Python over a DuckDB connection; the Dagster assets in `defs/features` are thin shells.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import duckdb
import pandas as pd

from pipelines import settings
from pipelines.lib import fx
from pipelines.lib.sql import bind, render_sql
from pipelines.lib.warehouse import (
    count_nights,
    delete_nights,
    load_macros,
    query,
    run_sql,
    transaction,
)


def chunks(start: date, end: date, days: int | None) -> list[tuple[date, date]]:
    """start..end cut into ranges of at most `days` nights (one range when days is None)."""
    if not days:
        return [(start, end)]
    ranges = []
    while start <= end:
        ranges.append((start, min(start + timedelta(days=days - 1), end)))
        start += timedelta(days=days)
    return ranges


def add_new_columns(conn: duckdb.DuckDBPyConnection, table: str, query: str, params: dict) -> list:
    """Columns the query returns that the table lacks (a warehouse built by an older release) are
    added, so an upgrade never needs a rebuild of history; older nights hold null in them."""
    wanted = run_sql(conn, "shared/query_columns", params, query=query).fetchall()
    present = {name for (name,) in
               run_sql(conn, "shared/table_columns", {"table_name": table}).fetchall()}
    added = []
    for name, column_type, *_ in wanted:
        if name not in present:
            run_sql(conn, "shared/add_column", table=table, column=name, column_type=column_type)
            added.append(name)
    return added


# Above this many snapshot rows in its windows, the feature query runs once per customer range:
# one statement over a 10M-account book spills its 10M-group aggregate and took over 25 min for
# one night on 2 cores; ten ranges of 1M accounts took 15 s each (when the warehouse is stored in
# customer order, each range reads only its own row groups).
# queries whose snapshot reads take a customer range ({{ customer_from }} / {{ customer_to }});
# a customer's accounts stay in one range, since features read across them (promises, bureau)
RANGED_QUERIES = {"features/account_features"}

CustomerRange = tuple[str | None, str | None]


def customer_ranges(conn: duckdb.DuckDBPyConnection, start: date, end: date,
                    rows_per_pass: int | None = None) -> list[CustomerRange]:
    """[from, to) customer-id ranges of about `rows_per_pass` window rows each; [(None, None)]
    (the whole book at once) when the nights' windows hold fewer."""
    rows_per_pass = rows_per_pass or settings.feature_rows_per_pass()
    (rows,) = conn.execute(render_sql("features/window_rows"),
                           {"start_date": start, "end_date": end}).fetchone()
    passes = -(-rows // rows_per_pass)
    if passes <= 1:
        return [(None, None)]
    (bounds,) = conn.execute(render_sql("features/customer_boundaries"), {
        "night": end, "fractions": [k / passes for k in range(1, passes)]}).fetchone()
    bounds = sorted({b for b in bounds or [] if b is not None})
    edges = [None, *bounds, None]
    return list(itertools.pairwise(edges))


def ranged_statements(query_name: str, table: str, ranges: list[CustomerRange]):
    """(insert statement, its customer-range parameters) per range."""
    for low, high in ranges:
        query = render_sql(query_name, customer_from=low is not None,
                           customer_to=high is not None)
        insert = render_sql("shared/insert_by_name", table=table, query=query)
        yield insert, {"customer_from": low, "customer_to": high}


def rebuild_nights(conn: duckdb.DuckDBPyConnection, table: str, query_name: str,
                   start: date, end: date, *, before: tuple[str, ...] = (),
                   chunk_days: int | None = None, rows_per_pass: int | None = None) -> int:
    """Replace nights start..end of `table` with `sql/<query_name>.sql`; returns rows written.

    `chunk_days` runs a long backfill as several set-wise statements in the same transaction: the
    feature query's nights x window join grows faster than linearly in one statement (measured on
    the demo book: 179 nights in one statement 367 s, in chunks of 30 about 80 s). For the same
    reason a large book runs each chunk once per customer range (`customer_ranges`).
    """
    load_macros(conn)
    fx.ensure_fx_table(conn)
    query = render_sql(query_name)
    # the currency rows' conversion (portfolio_daily, roll_rates, flow_rates); unused elsewhere
    params = {"start_date": start, "end_date": end,
              "reporting_currency": settings.reporting_currency(),
              "lookback_days": fx.LOOKBACK_DAYS}
    with transaction(conn):
        for statement in before:
            run_sql(conn, statement, params)
        run_sql(conn, "shared/create_table_from_query", params, table=table, query=query)
        add_new_columns(conn, table, query, params)
        delete_nights(conn, table, start, end)
        for chunk_start, chunk_end in chunks(start, end, chunk_days):
            ranges = (customer_ranges(conn, chunk_start, chunk_end, rows_per_pass)
                      if query_name in RANGED_QUERIES else [(None, None)])
            for insert, bounds in ranged_statements(query_name, table, ranges):
                conn.execute(insert, bind(insert, params | bounds | {"start_date": chunk_start,
                                                                     "end_date": chunk_end}))
        return count_nights(conn, table, start, end)


def preview(conn: duckdb.DuckDBPyConnection, table: str, night: date, limit: int = 12) -> pd.DataFrame:
    return query(conn, "shared/preview_night", {"night": night, "limit": limit}, table=table)
