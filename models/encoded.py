"""The matured window encoded once: features, labels, weights and segments as numpy arrays.

Why: a retrain trains, stops early, judges the challenger and the champion, bins the training
reference and evaluates the held-out window on the same rows. Each used to encode its own copy of
the frame (and rebuild a DMatrix, and sort account ids as strings); now the frame is encoded once
and every step takes rows or columns of these arrays. The values are exactly those of
models.features.feature_array: float64 for PSI bins, the same values as float32 for the booster.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xgboost as xgb

from models.dataset import window_of
from models.features import FEATURE_NAMES, days_of_history, feature_array, lookback_days
from models.trained import TrainedModel


@dataclass
class Encoded:
    """Rows of a labelled (or unlabelled) account_features frame, encoded.

    Attributes:
        values: float64, one column per name in `names`, NaN = missing (partial look-backs too).
        names: the columns of `values`.
        labels: the label (float64), or NaN when the frame has none.
        weights: the sample weight (1 when the frame has none).
        buckets: the bucket of each row, as str.
        accounts: each row's account as the rank of its id among the frame's ids (sorting these
            sorts the ids; equal ranks are the same account).
        history_days: days from the book's first snapshot to each row's night (None if unknown).
        first_snapshot: the book's first snapshot night used for the partial look-backs.
        window: models.dataset.window_of of the rows.
    """

    values: np.ndarray
    names: list[str]
    labels: np.ndarray
    weights: np.ndarray
    buckets: np.ndarray
    accounts: np.ndarray
    history_days: np.ndarray | None
    first_snapshot: str | None
    window: dict

    def __len__(self) -> int:
        return len(self.labels)

    def columns(self, names: list[str], dtype: str = "float32") -> np.ndarray:
        """The columns `names`, in that order, as `dtype` (the booster's input by default)."""
        position = {name: i for i, name in enumerate(self.names)}
        return self.values[:, [position[name] for name in names]].astype(dtype)

    def whole(self, days: int) -> np.ndarray:
        """Rows whose night is at least `days` after the book's first snapshot."""
        if self.history_days is None or days <= 0:
            return np.ones(len(self), dtype=bool)
        return self.history_days >= days

    def dmatrix(self, names: list[str], nthread: int, labelled: bool = False) -> xgb.DMatrix:
        """A DMatrix of the columns `names` (with label and weight when `labelled`)."""
        extra = {"label": self.labels, "weight": self.weights} if labelled else {}
        return xgb.DMatrix(self.columns(names), feature_names=list(names), nthread=nthread,
                           **extra)


def training_matrix(encoded: Encoded, names: list[str], nthread: int,
                    max_bin: int) -> xgb.QuantileDMatrix:
    """The training rows as a QuantileDMatrix: `hist` bins straight from the float32 columns,
    without a second full copy as a DMatrix (the same trees, byte for byte)."""
    return xgb.QuantileDMatrix(encoded.columns(names), label=encoded.labels,
                               weight=encoded.weights, feature_names=list(names),
                               nthread=nthread, max_bin=max_bin)


def _first_snapshot_iso(first_snapshot) -> str | None:
    return None if first_snapshot is None else pd.Timestamp(first_snapshot).date().isoformat()


def encode(frame: pd.DataFrame, first_snapshot=None,
           names: list[str] | None = None) -> Encoded:
    """Encode every feature of `frame` (account_features rows, labelled or not) once."""
    names = list(FEATURE_NAMES if names is None else names)
    labels = (frame["label"].to_numpy(dtype="float64") if "label" in frame.columns
              else np.full(len(frame), np.nan))
    weights = (frame["weight"].to_numpy(dtype="float64") if "weight" in frame.columns
               else np.ones(len(frame)))
    accounts = (pd.factorize(frame["account_id"].astype(str).to_numpy(), sort=True)[0]
                if "account_id" in frame.columns else np.arange(len(frame)))
    history = (days_of_history(frame, first_snapshot)
               if first_snapshot is not None and "snapshot_date" in frame.columns else None)
    return Encoded(values=feature_array(frame, names, first_snapshot=first_snapshot),
                   names=names, labels=labels, weights=weights,
                   buckets=(frame["bucket"].astype(str).to_numpy() if "bucket" in frame.columns
                            else np.full(len(frame), "")), accounts=accounts,
                   history_days=history, first_snapshot=_first_snapshot_iso(first_snapshot),
                   window=window_of(frame) if "snapshot_date" in frame.columns else {})


def take(encoded: Encoded, rows: np.ndarray, frame: pd.DataFrame | None = None) -> Encoded:
    """The rows `rows` (a mask or indices) of `encoded`; `frame` (those rows) gives the window."""
    history = None if encoded.history_days is None else encoded.history_days[rows]
    return Encoded(values=encoded.values[rows], names=encoded.names,
                   labels=encoded.labels[rows], weights=encoded.weights[rows],
                   buckets=encoded.buckets[rows], accounts=encoded.accounts[rows],
                   history_days=history, first_snapshot=encoded.first_snapshot,
                   window=window_of(frame) if frame is not None else {})


def fits(encoded: Encoded, names: list[str], first_snapshot) -> bool:
    """Whether `encoded` holds `names` masked for the same first snapshot as a model expects."""
    return (set(names) <= set(encoded.names)
            and _first_snapshot_iso(first_snapshot) == encoded.first_snapshot)


def partial_rows(encoded: Encoded, names: list[str]) -> dict[str, np.ndarray]:
    """models.features.partial_lookbacks, on the encoded rows."""
    if encoded.history_days is None:
        return {}
    partial = {}
    for name, days in lookback_days(names).items():
        rows = encoded.history_days < days
        if days > 0 and rows.any():
            partial[name] = rows
    return partial


def predict(model: TrainedModel, encoded: Encoded, matrices: dict | None = None) -> np.ndarray:
    """model.predict on the encoded rows (the same float32 input, so the same probabilities).

    `matrices` keeps one DMatrix per feature list: a challenger and a champion with the same
    columns are judged on one matrix.
    """
    if len(encoded) == 0:
        return np.zeros(0)
    key = tuple(model.feature_names)
    matrix = None if matrices is None else matrices.get(key)
    if matrix is None:
        matrix = encoded.dmatrix(list(key), int(model.params.get("nthread", 2)))
        if matrices is not None:
            matrices[key] = matrix
    return model.booster.predict(matrix).astype("float64")
