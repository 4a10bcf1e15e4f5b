"""Train the roll-forward model: XGBoost `hist`, monotone where the risk direction is known.

Why these choices: `hist` is the fast exact-enough tree method on CPU; monotone constraints keep
the model from learning that more days past due lowers risk from noise in a thin bucket; early
stopping watches the out-of-time window (log loss, so calibration counts, not only ranking); a
fixed seed and thread count make a retrain on the same data give byte-identical trees.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import xgboost as xgb

from models.config import ModelConfig
from models.encoded import Encoded, encode, fits, partial_rows, predict, take, training_matrix
from models.features import (
    FEATURE_NAMES,
    assert_no_protected_attributes,
    feature_array,
    feature_by_name,
    lookback_days,
    uninformative_columns,
)
from models.psi import reference_distribution
from models.trained import TrainedModel

log = logging.getLogger(__name__)


def monotone_constraints(names: list[str]) -> tuple[int, ...]:
    """+1/-1/0 per feature, in the booster's column order."""
    return tuple(feature.monotone for feature in feature_by_name(names).values())


def _dmatrix(frame: pd.DataFrame, names: list[str], nthread: int,
             first_snapshot=None) -> xgb.DMatrix:
    weights = (frame["weight"].to_numpy(dtype="float64") if "weight" in frame.columns
               else np.ones(len(frame)))
    return xgb.DMatrix(feature_array(frame, names, dtype="float32",
                                     first_snapshot=first_snapshot),
                       label=frame["label"].to_numpy(dtype="float64"),
                       weight=weights, feature_names=names, nthread=nthread)


def stopping_weights(validation: pd.DataFrame | Encoded) -> np.ndarray:
    """Validation weights for early stopping: each bucket's rows weigh the same in total.

    Why: by the book's weights current accounts are 95% of the log loss, and a booster stopped on
    that stops when M0 stops improving, before it has learned to rank inside M1-M6, where a
    collector needs it (measured on the bench book at depth 6: 108 trees and M1 AUC 0.62,
    against 203 trees and 0.63 stopped this way).
    """
    if not isinstance(validation, Encoded):
        validation = encode(validation, names=[])
    weights, buckets = validation.weights, validation.buckets
    totals = pd.Series(weights).groupby(buckets).transform("sum").to_numpy()
    return weights / totals * len(validation) / len(set(buckets))


def train_model(train: pd.DataFrame | None, validation: pd.DataFrame | None, config: ModelConfig,
                feature_names: list[str] | None = None,
                first_snapshot=None, *, encoded: tuple[Encoded, Encoded] | None = None
                ) -> TrainedModel:
    """Fit the booster on `train`, stopping early on the out-of-time `validation` rows.

    Args:
        train: labelled, weighted rows (models.dataset.split_out_of_time).
        validation: the latest matured nights, used only to decide when to stop.
        config: parameters and seed.
        feature_names: defaults to every feature of models.features; any name is checked
            against the protected-attribute guard before anything is fitted. Those null or
            constant on every training row are dropped (listed in `dropped_features`).
        first_snapshot: the book's first snapshot night; on rows of nights closer to it than
            a feature's look-back the feature is missing (models.features.partial_lookbacks),
            and its PSI reference bins only the nights where it is whole.
        encoded: (train, validation) already encoded (models.encoded.encode, with
            `first_snapshot`): the frames are then not read.

    Returns:
        The trained model, its trees cut at the best iteration.

    Raises:
        ProtectedAttributeError: a feature name looks like a protected attribute.
        ValueError: when the training rows hold a single class, or no feature has a value.
    """
    names = list(feature_names or FEATURE_NAMES)
    assert_no_protected_attributes(names)
    first_snapshot = None if first_snapshot is None else pd.Timestamp(first_snapshot).date()
    if encoded is None:
        encoded = (encode(train, first_snapshot, names), encode(validation, first_snapshot, names))
    train_rows, validation_rows = encoded
    if len(np.unique(train_rows.labels[~np.isnan(train_rows.labels)])) < 2:
        raise ValueError("the training rows hold a single class: nothing to learn")
    partial = partial_rows(train_rows, names)
    partial_counts = {name: int(rows.sum()) for name, rows in partial.items()}
    dropped = uninformative_columns(train_rows.columns(names, "float64"), names, partial,
                                    first_snapshot)
    names = [name for name in names if name not in dropped]
    if not names:
        raise ValueError("every feature is null or constant on the training rows")
    for name, why in dropped.items():
        log.info("feature %s left out: %s", name, why)
    params = config.xgb_params() | {
        "monotone_constraints": "(" + ",".join(str(c) for c in monotone_constraints(names)) + ")"}
    dtrain = training_matrix(train_rows, names, config.nthread, params["max_bin"])
    dvalidation = validation_rows.dmatrix(names, config.nthread, labelled=True)
    dvalidation.set_weight(stopping_weights(validation_rows))
    history: dict = {}
    booster = xgb.train(params, dtrain, num_boost_round=config.num_boost_round,
                        evals=[(dvalidation, "validation")],
                        early_stopping_rounds=config.early_stopping_rounds,
                        evals_result=history, verbose_eval=False)
    best = int(booster.best_iteration)
    booster = booster[: best + 1]
    log.info("trained %d trees (best iteration %d of %d); validation logloss %.5f",
             best + 1, best, config.num_boost_round, history["validation"]["logloss"][best])

    model = TrainedModel(
        booster=booster, feature_names=names, params=params, best_iteration=best,
        training_window=train_rows.window, validation_window=validation_rows.window,
        horizon_months=config.horizon_months, excluded_buckets=tuple(config.excluded_buckets),
        dropped_features=dropped,
        first_snapshot=None if first_snapshot is None else first_snapshot.isoformat(),
        partial_training_rows=partial_counts)
    model.reference = training_reference(model, train_rows, config.seed)
    return model


REFERENCE_ROWS = 200_000


def training_reference(model: TrainedModel, train: pd.DataFrame | Encoded, seed: int = 7) -> dict:
    """Weighted bins of the score and of each feature over the training window (for PSI).

    Deciles need no more than REFERENCE_ROWS rows: above that a seeded sample of the training
    rows is binned (at 1M rows this saved a third of the retrain), so a retrain stays repeatable.
    A feature is binned only over the nights whose look-back is whole (model.first_snapshot):
    none such gives empty bins, and its PSI reads "no data".
    """
    if not isinstance(train, Encoded) or not fits(train, model.feature_names,
                                                   model.first_snapshot):
        train = encode(train, model.first_snapshot, model.feature_names)
    if len(train) > REFERENCE_ROWS:
        picked = np.sort(np.random.default_rng(seed).choice(len(train), REFERENCE_ROWS,
                                                            replace=False))
        train = take(train, picked)
    weights = train.weights
    reference = {"score": reference_distribution(predict(model, train), weights),
                 "features": {}}
    for name, days in lookback_days(model.feature_names).items():
        whole = train.whole(days)
        reference["features"][name] = reference_distribution(
            train.columns([name], "float64")[:, 0][whole], weights[whole])
    return reference
