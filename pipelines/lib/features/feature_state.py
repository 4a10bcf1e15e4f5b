"""account_features night by night from a carried per-account state (see
sql/features/create_account_feature_state.sql), instead of re-reading 180 days of snapshots.

A night folds tonight's snapshot into the state of the book's previous night
(`carry_account_feature_state`); the first night, a night whose previous state is missing, or one
after a snapshot night up to the previous one was landed again rebuilds the state from the
180-day window (`account_feature_state_from_history`). Features are then computed from the state
(`account_features_from_state`) and equal the windowed `account_features.sql` exactly.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import duckdb

from pipelines import settings
from pipelines.lib.features.nightly_tables import customer_ranges
from pipelines.lib.sql import render_sql
from pipelines.lib.warehouse import (
    count_nights,
    delete_nights,
    insert_rows,
    load_macros,
    run_sql,
    transaction,
)

FEATURES = "account_features"
STATE = "account_feature_state"
# states kept besides tonight's: a rerun of the last night restarts from the one before it
KEEP_NIGHTS = 2


def ensure_state_tables(conn: duckdb.DuckDBPyConnection) -> None:
    run_sql(conn, "features/create_account_feature_state")
    run_sql(conn, "features/create_account_feature_state_night")


def state_path(conn: duckdb.DuckDBPyConnection, night: date) -> tuple[str, date | None]:
    """("carry", previous night) when the previous night's state can be carried, else
    ("history", None)."""
    [(previous,)] = run_sql(conn, "features/previous_snapshot_night",
                            {"night": night}).fetchall()
    usable = previous is not None and bool(run_sql(
        conn, "features/feature_state_usable", {"previous_night": previous}).fetchall()[0][0])
    return ("carry", previous) if usable else ("history", None)


def account_ranges(conn: duckdb.DuckDBPyConnection, night: date, previous: date,
                   rows_per_pass: int | None = None) -> list[tuple[str | None, str | None]]:
    """[from, to) account-id ranges for the carried-state pass, about `rows_per_pass` rows each;
    [(None, None)] on a book small enough for one pass. By account, not customer: an account
    whose holder changed tonight has its state and its snapshot in the same range."""
    rows_per_pass = rows_per_pass or settings.state_rows_per_pass()
    [(rows,)] = run_sql(conn, "features/state_accounts",
                        {"night": night, "previous_night": previous}).fetchall()
    passes = -(-rows // rows_per_pass)
    if passes <= 1:
        return [(None, None)]
    [(bounds,)] = run_sql(conn, "features/account_boundaries", {
        "night": night, "fractions": [k / passes for k in range(1, passes)]}).fetchall()
    return list(itertools.pairwise([None, *sorted({b for b in bounds or [] if b is not None}),
                                    None]))


def build_state(conn: duckdb.DuckDBPyConnection, night: date) -> str:
    """Write the state of `night` (and drop later and old ones); returns the path taken."""
    path, previous = state_path(conn, night)
    kept = [n for (n,) in run_sql(conn, "features/kept_feature_state_nights",
                                  {"night": night}).fetchall()]
    keep_from = kept[KEEP_NIGHTS - 1] if len(kept) >= KEEP_NIGHTS else date.min
    if path == "carry":
        keep_from = min(keep_from, previous)
    bounds = {"night": night, "keep_from": keep_from}
    run_sql(conn, "features/delete_feature_state", bounds)
    run_sql(conn, "features/delete_feature_state_nights", bounds)
    params = {"night": night, "previous_night": previous}
    if path == "carry":
        [(month_ago, previous_month_ago)] = run_sql(conn, "features/look_back_dates",
                                                    params).fetchall()
        one_night = (night - previous).days == 1 and (month_ago - previous_month_ago).days <= 1
        for low, high in account_ranges(conn, night, previous):
            insert_rows(conn, STATE, render_sql(
                "features/carry_account_feature_state", one_night=one_night,
                account_from=low is not None, account_to=high is not None),
                params | {"month_ago": month_ago, "previous_month_ago": previous_month_ago,
                          "account_from": low, "account_to": high})
    else:
        # one pass per customer range on a large book, as the windowed query runs
        for low, high in customer_ranges(conn, night, night):
            insert_rows(conn, STATE, render_sql(
                "features/account_feature_state_from_history", customer_from=low is not None,
                customer_to=high is not None), params | {"customer_from": low, "customer_to": high})
    run_sql(conn, "features/insert_feature_state_night",
            {"night": night, "path": path, "built_at": datetime.now(UTC)})
    return path


def create_features_table(conn: duckdb.DuckDBPyConnection) -> None:
    query = render_sql("features/account_features_from_state")
    run_sql(conn, "shared/create_table_from_query", {"night": date.min}, table=FEATURES,
            query=query)


def feature_nights(conn: duckdb.DuckDBPyConnection, start: date, end: date) -> list[date]:
    return [n for (n,) in run_sql(conn, "features/snapshot_nights",
                                  {"start_date": start, "end_date": end}).fetchall()]


def rebuild_features(conn: duckdb.DuckDBPyConnection, start: date, end: date) -> int:
    """Replace nights start..end of account_features, each from its carried state, in one
    transaction; returns the rows those nights hold."""
    load_macros(conn)
    with transaction(conn):
        ensure_state_tables(conn)
        create_features_table(conn)
        delete_nights(conn, FEATURES, start, end)
        for night in feature_nights(conn, start, end):
            build_state(conn, night)
            insert_rows(conn, FEATURES, render_sql("features/account_features_from_state"),
                        {"night": night})
        return count_nights(conn, FEATURES, start, end)
