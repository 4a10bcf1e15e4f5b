"""Model metrics: AUC, Gini, KS, Brier, lift and calibration (PSI is in models/psi.py).

Why weighted everywhere: training and validation rows carry sample weights (current accounts are
sampled down), and the metrics must describe the book, not the sample. With all weights 1 these
are the usual unweighted metrics. Implemented on numpy directly (no scikit-learn in the stack).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.buckets import BUCKETS
from models.dataset import window_of
from models.encoded import Encoded, encode, predict
from models.trained import TrainedModel


def _weights(frame: pd.DataFrame) -> np.ndarray:
    if "weight" in frame.columns:
        return frame["weight"].to_numpy(dtype="float64")
    return np.ones(len(frame))


def auc(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Area under the ROC curve; tied scores count one half. NaN when one class is absent."""
    labels = np.asarray(labels, dtype=bool)
    weights = np.ones(len(labels)) if weights is None else np.asarray(weights, dtype="float64")
    _, inverse = np.unique(np.asarray(scores, dtype="float64"), return_inverse=True)
    positive = np.bincount(inverse, weights * labels)
    negative = np.bincount(inverse, weights * ~labels)
    total_positive, total_negative = positive.sum(), negative.sum()
    if total_positive == 0 or total_negative == 0:
        return float("nan")
    negative_below = np.cumsum(negative) - negative
    return float((positive * (negative_below + 0.5 * negative)).sum()
                 / (total_positive * total_negative))


def ks_statistic(labels: np.ndarray, scores: np.ndarray,
                 weights: np.ndarray | None = None) -> float:
    """Kolmogorov-Smirnov: the largest gap between the positives' and negatives' score CDFs."""
    labels = np.asarray(labels, dtype=bool)
    weights = np.ones(len(labels)) if weights is None else np.asarray(weights, dtype="float64")
    _, inverse = np.unique(np.asarray(scores, dtype="float64"), return_inverse=True)
    positive = np.bincount(inverse, weights * labels)
    negative = np.bincount(inverse, weights * ~labels)
    if positive.sum() == 0 or negative.sum() == 0:
        return float("nan")
    gap = np.cumsum(positive) / positive.sum() - np.cumsum(negative) / negative.sum()
    return float(np.abs(gap).max())


def risk_deciles(scores: np.ndarray, weights: np.ndarray, tie_break: np.ndarray) -> np.ndarray:
    """Decile 1..10 of each row, 1 = the riskiest tenth of the (weighted) book.

    Rows are ordered by score descending, then by `tie_break`, so equal scores split the same way
    on every run.
    """
    order = np.lexsort((tie_break, -scores))
    cumulative = np.cumsum(weights[order])
    position = (cumulative - weights[order] / 2) / cumulative[-1]
    deciles = np.empty(len(scores), dtype=np.int64)
    deciles[order] = np.minimum((position * 10).astype(np.int64) + 1, 10)
    return deciles


def _group_table(key: np.ndarray, labels: np.ndarray, scores: np.ndarray,
                 weights: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({"key": key, "label": labels * weights, "predicted": scores * weights,
                          "weight": weights, "rows": 1})
    table = frame.groupby("key", sort=True).sum()
    table["mean_predicted"] = table["predicted"] / table["weight"]
    table["observed_rate"] = table["label"] / table["weight"]
    return table


def evaluate(model: TrainedModel | None, frame: pd.DataFrame | None, *,
             encoded: Encoded | None = None, scores: np.ndarray | None = None) -> dict:
    """AUC, Gini, KS, Brier, lift and calibration of `model` on labelled rows `frame`.

    Args:
        model: a trained (or loaded) model.
        frame: labelled rows (column `label`; `weight` if sampled).
        encoded: the same rows encoded (models.encoded.encode): then `frame` is not read.
        scores: the model's predictions on those rows, when already made.

    Returns:
        JSON-ready dict: window (nights and rows), auc, gini, ks, brier, observed_rate,
        mean_predicted, lift_by_decile, calibration_by_decile, calibration_by_bucket. Each
        bucket's row has its rows, positives and negatives (row counts, unweighted: how many
        pairs its AUC rests on), weighted mean predicted and observed rate, and its own AUC and
        KS (weighted like the overall ones; NaN when the bucket has one class only).
    """
    if encoded is None:
        encoded = encode(frame, model.first_snapshot, model.feature_names)
    if scores is None:
        scores = predict(model, encoded)
    labels = encoded.labels
    weights = encoded.weights
    total = weights.sum()
    area = auc(labels, scores, weights)
    observed = float((labels * weights).sum() / total)
    predicted = float((scores * weights).sum() / total)

    deciles = risk_deciles(scores, weights, encoded.accounts)
    by_decile = _group_table(deciles, labels, scores, weights)
    positives = (labels * weights).sum()
    by_decile["cumulative_capture"] = by_decile["label"].cumsum() / positives if positives else 0.0
    lift = [{"decile": int(d), "rows": int(r.rows), "weight": float(r.weight),
             "observed_rate": float(r.observed_rate),
             "lift": float(r.observed_rate / observed) if observed else float("nan"),
             "cumulative_capture": float(r.cumulative_capture)}
            for d, r in by_decile.iterrows()]
    calibration = [{"decile": int(d), "rows": int(r.rows), "weight": float(r.weight),
                    "mean_predicted": float(r.mean_predicted),
                    "observed_rate": float(r.observed_rate),
                    "difference": float(r.mean_predicted - r.observed_rate)}
                   for d, r in by_decile.iterrows()]
    bucket_of_row = encoded.buckets
    by_bucket = _group_table(bucket_of_row, labels, scores, weights)
    accounts = encoded.accounts
    bucket_rows = []
    for bucket, r in by_bucket.iterrows():
        inside = bucket_of_row == bucket  # an overall AUC can hide a poor one inside a bucket
        positives_inside = int(labels[inside].sum())
        positive = labels[inside] == 1
        bucket_rows.append({"bucket": bucket, "rows": int(r.rows), "weight": float(r.weight),
                            "positives": positives_inside,
                            "negatives": int(r.rows) - positives_inside,
                            # an account observed on several nights is one piece of evidence
                            "accounts": len(np.unique(accounts[inside])),
                            "positive_accounts": len(np.unique(accounts[inside][positive])),
                            "negative_accounts": len(np.unique(accounts[inside][~positive])),
                            "mean_predicted": float(r.mean_predicted),
                            "observed_rate": float(r.observed_rate),
                            "difference": float(r.mean_predicted - r.observed_rate),
                            "auc": auc(labels[inside], scores[inside], weights[inside]),
                            "ks": ks_statistic(labels[inside], scores[inside], weights[inside])})
    bucket_rows.sort(key=lambda row: BUCKETS.index(row["bucket"]) if row["bucket"] in BUCKETS
                     else len(BUCKETS))
    return {
        "window": encoded.window if frame is None else window_of(frame),
        "auc": area,
        "gini": 2 * area - 1,
        "ks": ks_statistic(labels, scores, weights),
        "brier": float(((scores - labels) ** 2 * weights).sum() / total),
        "observed_rate": observed,
        "mean_predicted": predicted,
        "lift_by_decile": lift,
        "calibration_by_decile": calibration,
        "calibration_by_bucket": bucket_rows,
    }
