"""Report section 9, strategy experiments: each experiment's pre-registration (hypothesis,
metric, sample size against the accounts reached, end date) and its arms against the champion,
with intervals and a verdict in words, from table `experiment_results`."""

from __future__ import annotations

import logging
import math
from datetime import date

import duckdb

from pipelines.lib.collections.experiments import ExperimentError, load_experiments
from pipelines.lib.collections.strategy import StrategyError, load_strategy
from pipelines.lib.report import formatting as fmt
from pipelines.lib.warehouse import query

ORDER = 50
NAME = "experiments"
RATES = ("cure_30d", "roll_forward_30d")
log = logging.getLogger(__name__)


def _files() -> dict[str, dict]:
    try:
        found = load_experiments(load_strategy())
    except (ExperimentError, StrategyError) as error:
        log.warning("experiments section: experiment files not read: %s", error)
        return {}
    return {e.id: {"hypothesis": e.hypothesis, "metric": e.metric,
                   "sample_size": e.sample_size, "start_date": e.start_date,
                   "end_date": e.end_date, "status": e.status} for e in found}


def collect(conn: duckdb.DuckDBPyConnection, night: date, tables: set[str]) -> dict | None:
    if "experiment_results" not in tables:
        return None
    return {"results": query(conn, "experiments/report_results", {"night": night}),
            "files": _files()}


def _value(metric: str, value, currency: str | None) -> str:
    if fmt.missing(value):
        return "–"
    if metric in RATES:
        return fmt.percent(value)
    if metric == "amount_collected_30d":
        return fmt.money(value, currency or "", 2)
    return fmt.number(value, 2 if metric == "contacts_per_cure" else 1)


def _difference(metric: str, value, currency: str | None) -> str:
    if fmt.missing(value):
        return "–"
    if metric in RATES:
        return fmt.points(value)
    sign = "+" if value >= 0 else "-"
    return sign + _value(metric, abs(value), currency)


def _interval(metric: str, low, high, currency: str | None) -> str:
    if fmt.missing(low) or fmt.missing(high):
        return "–"
    return f"{_difference(metric, low, currency)} … {_difference(metric, high, currency)}"


def _mde(metric: str, value, currency: str | None) -> str:
    if metric in RATES and not fmt.missing(value):
        return f"{value * 100:.2f} pp"
    return _value(metric, value, currency)


def tables(frames: dict, text: dict, language: str, currency: str) -> dict:
    t = text.get(NAME, {})
    results = frames["results"]
    experiments = []
    for exp_id, rows in results.groupby("experiment_id", sort=True):
        info = frames["files"].get(exp_id, {})
        metric = info.get("metric") or next(
            (r.metric for r in rows.itertuples() if r.primary_metric), None)
        table, sentences = [], []
        for r in rows.itertuples():
            cur = r.currency if isinstance(r.currency, str) else None
            name = t["metrics"][r.metric] + (f" ({cur})" if cur else "")
            verdict = t["verdicts"].get(r.verdict, "") if isinstance(r.verdict, str) else ""
            table.append([name, t["arms"][r.arm], fmt.number(r.accounts),
                          fmt.number(r.matured), _value(r.metric, r.value, cur),
                          _difference(r.metric, r.difference, cur),
                          _interval(r.metric, r.low, r.high, cur),
                          _mde(r.metric, r.min_detectable_effect, cur), verdict])
            if r.primary_metric and r.arm != "champion" and isinstance(r.verdict, str):
                sentences.append(t["sentence"].format(
                    arm=t["arms"][r.arm], metric=t["metrics"][r.metric],
                    difference=_difference(r.metric, r.difference, cur),
                    interval=_interval(r.metric, r.low, r.high, cur),
                    mde=_mde(r.metric, r.min_detectable_effect, cur), verdict=verdict))
        challengers = rows[(rows["arm"] == "challenger") & (rows["metric"] == "cure_30d")]
        achieved = int(challengers["accounts"].iloc[0]) if len(challengers) else 0
        sample = info.get("sample_size")
        experiments.append({
            "id": exp_id,
            "hypothesis": info.get("hypothesis", "–"),
            "metric": t["metrics"].get(metric, "–"),
            "sample": t["sample"].format(
                achieved=fmt.number(achieved), planned=fmt.number(sample)
                if sample is not None and not math.isnan(sample) else "–"),
            "dates": f"{info.get('start_date', '–')} – {info.get('end_date', '–')}",
            "status": t["statuses"].get(info.get("status"), "–"),
            "sentences": sentences,
            "headers": t["headers"],
            "rows": table,
        })
    return {"experiments": experiments}
