"""Per experiment and arm, what happened to the accounts entering treatment, and each arm against
the champion with its 95% interval: the rows of table `experiment_results`.

The unit is an account's first night in a tier during the experiment (experiment_entries.sql):
arms are assigned per customer, so a customer's accounts share an arm; they are counted as
independent accounts, which is what the intervals assume (README: clustering by customer).
Only matured entries (30 days observed) count in the rates; an arm with none is "too early".
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines.lib.collections import experiment_stats as st
from pipelines.lib.collections import experiments
from pipelines.lib.collections.strategy import Strategy
from pipelines.lib.sql import render_sql
from pipelines.lib.warehouse import load_macros, query, replace_nights, table_exists

LEVEL = 0.95
WINDOW_DAYS = 30
SIGNIFICANT = "significant"
NO_DIFFERENCE = "no significant difference"
TOO_EARLY = "too early"

SCHEMA = pa.schema([
    ("snapshot_date", pa.date32()), ("experiment_id", pa.string()), ("arm", pa.string()),
    ("metric", pa.string()), ("primary_metric", pa.bool_()), ("currency", pa.string()),
    ("accounts", pa.int64()), ("matured", pa.int64()), ("successes", pa.int64()),
    ("amount_collected", pa.float64()), ("value", pa.float64()),
    ("champion_value", pa.float64()), ("difference", pa.float64()), ("low", pa.float64()),
    ("high", pa.float64()), ("min_detectable_effect", pa.float64()), ("verdict", pa.string()),
])


def entries(conn: duckdb.DuckDBPyConnection, night: date) -> pd.DataFrame:
    load_macros(conn)
    return query(conn, "experiments/experiment_entries", {"night": night},
                 has_outcomes=table_exists(conn, "contact_outcomes"))


def _number(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def verdict(interval: st.Interval) -> str:
    if math.isnan(interval.low):
        return TOO_EARLY
    return SIGNIFICANT if interval.significant else NO_DIFFERENCE


def _rate_rows(base: dict, arm_rows: pd.DataFrame, champion: pd.DataFrame, column: str,
               is_champion: bool) -> dict:
    arm_rows = arm_rows[arm_rows[column].notna()]
    champion = champion[champion[column].notna()]
    n, k = len(arm_rows), int(arm_rows[column].sum())
    n_c, k_c = len(champion), int(champion[column].sum())
    row = base | {"matured": n, "successes": k, "value": k / n if n else None,
                  "champion_value": k_c / n_c if n_c else None}
    if is_champion:
        return row
    interval = st.rate_difference(k_c, n_c, k, n, LEVEL)
    mde = st.min_detectable_effect(k_c / n_c, n_c, n) if n_c and n else math.nan
    return row | {"difference": _number(interval.estimate), "low": _number(interval.low),
                  "high": _number(interval.high), "min_detectable_effect": _number(mde),
                  "verdict": verdict(interval)}


def _mean_rows(base: dict, values: list[float], champion: list[float], is_champion: bool,
               scale: float = 1.0) -> dict:
    scaled, scaled_c = [v * scale for v in values], [v * scale for v in champion]
    row = base | {"matured": len(values),
                  "value": sum(scaled) / len(scaled) if scaled else None,
                  "champion_value": sum(scaled_c) / len(scaled_c) if scaled_c else None}
    if is_champion:
        return row
    interval = st.mean_difference(scaled_c, scaled, LEVEL)
    return row | {"difference": _number(interval.estimate), "low": _number(interval.low),
                  "high": _number(interval.high),
                  "min_detectable_effect": _number(
                      st.min_detectable_mean_difference(scaled_c, scaled)),
                  "verdict": verdict(interval)}


def results(frame: pd.DataFrame, night: date, primary: dict[str, str]) -> pa.Table:
    """The rows of experiment_results for `night` from experiment_entries' rows; `primary` maps
    an experiment to its pre-registered metric."""
    rows = []
    for exp_id, exp_rows in frame.groupby("experiment_id", sort=True):
        arms = sorted(set(exp_rows["arm"]), key=lambda a: (a != "champion", a))
        matured = exp_rows[exp_rows["matured"]]
        champion = matured[matured["arm"] == "champion"]
        for arm in arms:
            is_champion = arm == "champion"
            entered = exp_rows[exp_rows["arm"] == arm]
            done = matured[matured["arm"] == arm]

            def base(metric, currency=None, entered=entered, arm=arm, exp_id=exp_id):
                return {"snapshot_date": night, "experiment_id": exp_id, "arm": arm,
                        "metric": metric, "primary_metric": primary.get(exp_id) == metric,
                        "currency": currency, "accounts": len(entered)}

            rows.append(_rate_rows(base("cure_30d"), done, champion, "cured", is_champion))
            rows.append(_rate_rows(base("roll_forward_30d"), done, champion, "rolled_forward",
                                   is_champion))
            for currency in sorted(set(exp_rows["currency"])):
                mine = done[done["currency"] == currency]
                theirs = champion[champion["currency"] == currency]
                row = _mean_rows(base("amount_collected_30d", currency,
                                      entered[entered["currency"] == currency]),
                                 [float(v) for v in mine["collected"]],
                                 [float(v) for v in theirs["collected"]], is_champion)
                rows.append(row | {"amount_collected": float(mine["collected"].sum())})
            rows.append(_mean_rows(base("complaints_per_1000"),
                                   [float(v) for v in done["complaints"]],
                                   [float(v) for v in champion["complaints"]], is_champion,
                                   scale=1000.0) | {"successes": int(done["complaints"].sum())})
            cures, cures_c = int(done["cured"].fillna(False).sum()), int(
                champion["cured"].fillna(False).sum())
            per_cure = int(done["contacts"].sum()) / cures if cures else None
            per_cure_c = int(champion["contacts"].sum()) / cures_c if cures_c else None
            row = base("contacts_per_cure") | {
                "matured": len(done), "successes": cures, "value": per_cure,
                "champion_value": per_cure_c}
            if not is_champion:
                # a ratio of two sums: no interval here, the difference only
                row |= {"difference": per_cure - per_cure_c
                        if per_cure is not None and per_cure_c is not None else None,
                        "verdict": None if cures and cures_c else TOO_EARLY}
            rows.append(row)
    full = [{name: row.get(name) for name in SCHEMA.names} for row in rows]
    return pa.Table.from_pylist(full, schema=SCHEMA)


def build(conn: duckdb.DuckDBPyConnection, champion: Strategy, start: date, end: date) -> int:
    """Replace nights start..end of experiment_results (each night's results as known then);
    returns the rows written."""
    experiments.ensure_tables(conn)
    conn.execute(render_sql("experiments/create_experiment_results"))
    primary = {e.id: e.metric for e in experiments.load_experiments(champion)}
    written = 0
    night = start
    while night <= end:
        written += replace_nights(conn, "experiment_results", night, night,
                                  results(entries(conn, night), night, primary))
        night += timedelta(days=1)
    return written
