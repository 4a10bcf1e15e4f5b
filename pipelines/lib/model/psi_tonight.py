"""Tonight's PSI bins counted in the warehouse: the features in one pass over account_features,
the score from the night's account_scores.

Why: monitoring used to read the whole night into pandas, encode it and predict every account
again, only to count ten bins per column. The reference edges are kept with the model
(models.psi.reference_distribution); DuckDB counts tonight's rows per bin, and
models.monitoring.stability_of_counts makes the same report from the counts as
models.monitoring.stability does from the rows.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd

from models.features import BUCKET_RANK, feature_by_name, lookback_days
from models.monitoring import stability_of_counts
from models.trained import TrainedModel
from pipelines.lib.warehouse import query


def _whole_tonight(model: TrainedModel, night: date, days: int) -> bool:
    if model.first_snapshot is None or days <= 0:
        return True
    return (pd.Timestamp(night) - pd.Timestamp(model.first_snapshot)).days >= days


def _counts(frame: pd.DataFrame, bins: int) -> np.ndarray:
    counts = np.zeros(bins)
    np.add.at(counts, frame["bin"].to_numpy(dtype=np.int64), frame["rows"].to_numpy(dtype="float64"))
    return counts


def tonight_stability(conn: duckdb.DuckDBPyConnection, model: TrainedModel,
                      night: date) -> dict | None:
    """models.monitoring.stability of `night`'s account_features rows, counted in DuckDB.

    None when account_scores does not hold a score by `model` for every account of its
    population tonight (the caller then bins the rows in Python).
    """
    reference = model.reference
    excluded = list(model.excluded_buckets)
    lookbacks = lookback_days(model.feature_names)
    counted = [name for name in model.feature_names
               if _whole_tonight(model, night, lookbacks[name])]
    specs = feature_by_name(counted)
    features = [{"source": spec.source,
                 "encoding": ("one_hot" if spec.encoding.startswith("one_hot:")
                              else spec.encoding if spec.encoding == "bucket_rank"
                              else "numeric")} for spec in specs.values()]
    counts = query(conn, "model/psi_counts_tonight", {
        "night": night, "excluded_buckets": excluded,
        "bucket_names": list(BUCKET_RANK), "bucket_ranks": [float(r) for r in BUCKET_RANK.values()],
        "categories": [spec.encoding.split(":", 1)[1] if spec.encoding.startswith("one_hot:")
                       else "" for spec in specs.values()],
        "edges": [[float(e) for e in reference["features"][name]["edges"]] for name in counted],
    }, features=features)
    rows = int(counts.loc[counts["feature"] == 0, "rows"].sum())
    score_edges = [float(e) for e in reference["score"]["edges"]]
    scores = query(conn, "model/psi_score_counts_tonight", {
        "night": night, "model_version": model.version or "unregistered",
        "excluded_buckets": excluded, "edges": score_edges})
    if int(scores["rows"].sum()) != rows:
        return None
    score_counts = _counts(scores, len(score_edges) + 2)
    feature_counts = {name: np.zeros(len(reference["features"][name]["edges"]) + 2)
                      for name in model.feature_names}
    for position, name in enumerate(counted, start=1):
        feature_counts[name] = _counts(counts[counts["feature"] == position],
                                       len(reference["features"][name]["edges"]) + 2)
    return stability_of_counts(model, rows, score_counts, feature_counts)
