"""Benchmark pieces for the feature stage: synthetic history, and a pandas twin of the core
account features, so `make bench` can compare DuckDB with pandas on a slice both can hold.

The pandas twin is also a cross-check: on the slice, its values must equal the SQL's.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd

from pipelines.lib.ingest.load import ensure_warehouse
from pipelines.lib.sql import render_sql

FEATURE_TABLES = ("account_features", "roll_rates", "flow_rates", "portfolio_daily",
                  "vintage_curves")
MILESTONES = ("features/create_account_milestones", "features/update_account_milestones")
PANDAS_COLUMNS = ("max_dpd_30d", "max_dpd_90d", "max_dpd_180d", "times_30plus_180d",
                  "cures_180d", "limit_changes_180d", "utilisation", "balance_change_30d")


def generate_history(conn: duckdb.DuckDBPyConnection, accounts: int, days: int, end: date) -> None:
    ensure_warehouse(conn)
    sql = render_sql("bench/generate_history")
    conn.execute(sql, {"accounts": accounts, "days": days, "end_date": end})
    conn.execute("checkpoint")


def pandas_account_features(snapshots: pd.DataFrame, night: date) -> pd.DataFrame:
    """The core window features of sql/features/account_features.sql, in pandas."""
    night_ts = pd.Timestamp(night)
    frame = snapshots[(snapshots.snapshot_date > night_ts - pd.Timedelta(days=180))
                      & (snapshots.snapshot_date <= night_ts)]
    frame = frame.sort_values(["account_id", "snapshot_date"])
    grouped = frame.groupby("account_id", sort=False)
    previous_dpd = grouped.days_past_due.shift()
    previous_limit = grouped.credit_limit.shift()
    first = previous_dpd.isna()
    frame = frame.assign(
        entry_30=(frame.days_past_due >= 31) & (first | (previous_dpd < 31)),
        cure=(previous_dpd > 0) & (frame.days_past_due == 0),
        limit_change=previous_limit.notna() & (previous_limit != frame.credit_limit),
    )
    age = (night_ts - frame.snapshot_date).dt.days
    result = pd.DataFrame({
        "max_dpd_30d": frame.days_past_due.where(age < 30).groupby(frame.account_id).max(),
        "max_dpd_90d": frame.days_past_due.where(age < 90).groupby(frame.account_id).max(),
        "max_dpd_180d": frame.groupby("account_id").days_past_due.max(),
        "times_30plus_180d": frame.groupby("account_id").entry_30.sum(),
        "cures_180d": frame.groupby("account_id").cure.sum(),
        "limit_changes_180d": frame.groupby("account_id").limit_change.sum(),
    })
    tonight = frame[frame.snapshot_date == night_ts].set_index("account_id")
    limit = tonight.credit_limit.astype(float)
    balance = tonight.balance.astype(float)
    result = result.loc[tonight.index]
    result["utilisation"] = np.where(limit > 0, balance / limit.where(limit > 0, 1),
                                     np.where(balance > 0, 1.0, 0.0))
    back = frame[frame.snapshot_date <= night_ts - pd.Timedelta(days=30)]
    then = back.groupby("account_id").balance.last().astype(float)
    result["balance_change_30d"] = balance - then.reindex(tonight.index)
    return result.sort_index()


def slice_snapshots(conn: duckdb.DuckDBPyConnection, accounts: int) -> pd.DataFrame:
    sql = render_sql("bench/slice_snapshots")
    frame = conn.execute(sql, {"accounts": accounts}).df()
    frame["snapshot_date"] = pd.to_datetime(frame.snapshot_date)
    return frame
