"""A trained model: the booster and what it was built on, as scoring and the registry take it.

Why apart from training: scoring, evaluation, monitoring and the registry all take a model and
only training makes one; a model loaded from the registry is the same object, and none of those
modules needs the training code to name it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xgboost as xgb

from models.features import feature_array


@dataclass
class TrainedModel:
    """A booster with everything needed to score, explain, monitor and register it.

    Attributes:
        booster: trees up to the best iteration only (later ones are cut off).
        feature_names: the booster's columns, in order (see models.features).
        params: the XGBoost parameters it was trained with.
        best_iteration: index of the last tree kept (early stopping on the validation window).
        training_window: nights, rows and positives of the training rows.
        validation_window: the same for the out-of-time validation rows.
        horizon_months: the label horizon.
        excluded_buckets: buckets outside the population (not scored).
        reference: training-window bins of the score and of every feature, for PSI.
        version: the registry version once registered or loaded, else None.
        monitoring_window: the held-out latest matured nights as of training (neither trained
            on nor stopped on), when the retrain had one.
        dropped_features: {feature: why} left out before training (null or one value on every
            training row): no column of the booster, no PSI, no reason code.
        first_snapshot: the book's first snapshot night (ISO) when trained: on a row whose
            night is closer to it than a feature's look-back, the feature is partial and the
            booster sees it missing (models.features.partial_lookbacks), in training and in
            scoring alike; a feature's PSI only counts nights where it is whole.
        partial_training_rows: {feature: training rows on which it was partial (missing)}.
    """

    booster: xgb.Booster
    feature_names: list[str]
    params: dict
    best_iteration: int
    training_window: dict
    validation_window: dict
    horizon_months: int = 1
    excluded_buckets: tuple[str, ...] = ("WO",)
    reference: dict = field(default_factory=dict)
    version: str | None = None
    monitoring_window: dict = field(default_factory=dict)
    dropped_features: dict = field(default_factory=dict)
    first_snapshot: str | None = None
    partial_training_rows: dict = field(default_factory=dict)

    def matrix(self, frame: pd.DataFrame) -> xgb.DMatrix:
        """The booster's input for account_features rows `frame`, partial look-backs missing."""
        return xgb.DMatrix(feature_array(frame, self.feature_names, dtype="float32",
                                         first_snapshot=self.first_snapshot),
                           feature_names=list(self.feature_names),
                           nthread=int(self.params.get("nthread", 2)))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """P(roll forward within the horizon) for each row of `frame`."""
        if len(frame) == 0:
            return np.zeros(0)
        return self.booster.predict(self.matrix(frame)).astype("float64")

    def model_bytes(self, file_format: str = "ubj") -> bytes:
        """The model in XGBoost's own format ("json" or "ubj"): what the registry stores."""
        return bytes(self.booster.save_raw(raw_format=file_format))
