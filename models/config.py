"""Every tunable of the delinquency model in one frozen dataclass (DOMAIN.md §3).

Why one object: the training set, the booster, the champion/challenger gate, the risk grades and
the reason codes must agree on the same numbers, and the model card records them all, so a
retrain can be reproduced from its card alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENV_PREFIX = "OVERDUE_MODEL_"


@dataclass(frozen=True)
class ModelConfig:
    """Defaults are the product's; each one is overridable (see `from_env`).

    Attributes:
        horizon_months: label horizon: roll-forward between the night and this many months later.
        observation_every_days: observation nights are picked at least this many days apart,
            walking back from the latest matured night (7: weekly; a month-end book gets its
            month-ends).
        delinquent_observation_every_days: delinquent rows (any bucket but M0) are observed on
            nights at least this many days apart (1: every night), so the few accounts a
            collector ranks inside a bucket give the booster every night's evidence, while
            current rows stay on the `observation_every_days` nights and weigh for the nights
            between (models.dataset.current_night_weight), so calibration and the metrics still
            describe the book.
        training_window_days: days of matured nights before the validation window used to train.
        validation_days: matured nights, out of time, for early stopping and the
            champion/challenger comparison: the days just before the monitoring window.
        monitoring_days: the latest matured nights as of a retrain, held out of both training
            and early stopping, so the card's monitoring metrics are on data the model never saw.
            Training, validation and monitoring windows are disjoint and in that order.
        required_history_days: an observation night is used (training, validation, monitoring)
            only when the book's first snapshot is at least this many days before it, so the
            short look-backs (30-day windows, one month ago: up to 34 days) are whole. A feature
            looking back further (90, 180 days) is partial on a younger night and set to missing
            there, in training and scoring alike (models.features.partial_lookbacks); its PSI
            reference bins only the nights where its look-back is whole (none: "no data").
        sample_current_share: current (M0) rows are sampled down to about this share of the rows
            (delinquent rows are all kept); 1.0 keeps everything. Weights undo the sampling.
        max_training_rows: when the window's sampled rows are more than this, every row is kept
            at the same further rate (weights again undo it), so a retrain costs the same on a
            10M-account book or a long history as on a 1M one; 0 keeps them all. Trees of depth
            4 on ~40 features do not improve past a few hundred thousand rows.
        excluded_buckets: buckets outside the model's population (a written-off account cannot
            roll forward): neither trained on nor scored.
        max_depth, learning_rate, num_boost_round, early_stopping_rounds, min_child_weight,
            subsample, colsample_bytree, reg_lambda, max_bin: XGBoost `hist` parameters.
        nthread: threads for training and prediction; fixed so retrains are byte-identical.
        auc_margin: a challenger may lose at most this much AUC to the champion.
        min_auc: the first model (no champion yet) needs at least this AUC.
        calibration_tolerance: |mean predicted - observed| allowed over the whole window.
        bucket_calibration_tolerance: the same per bucket, before the sampling-noise allowance.
        calibration_min_rows: buckets with fewer rows in the window are not judged.
        calibration_z: per bucket, the allowance grows by this many binomial standard errors of
            the predicted rate, so a small bucket does not fail on noise alone.
        bucket_auc_margin: inside a bucket a challenger may lose at most this much AUC to the
            champion (same window, same rows), plus `calibration_z` standard errors of the
            champion's AUC over the bucket's accounts (models.registry.bucket_auc_allowance);
            monitoring alerts when a bucket's AUC on matured nights falls by more than that
            below the card's validation AUC for that bucket. Why: the overall AUC is mostly the
            bucket itself, while collectors rank accounts inside one bucket.
        bucket_auc_min_rows: a bucket's AUC is judged (gate, monitoring) only with at least this
            many distinct accounts in the window (rows when the metrics carry no account ids:
            a delinquent account observed on every night is one piece of evidence) ...
        bucket_auc_min_class_rows: ... and at least this many accounts that rolled forward and
            as many that did not; below either, its AUC is too noisy to refuse a model on (it is
            still shown).
        bucket_auc_warning: with no champion yet, a judged bucket whose AUC is below this is
            recorded as a warning in the gate's reasons (never a refusal: the alternative is no
            model at all); 0.5 ranks no better than chance.
        grade_cutoffs: probability cut-offs between grades A|B|C|D|E (ascending, 4 values).
        grades: the grade letters, best first.
        early_warning_probability: a current account at or above this probability is an
            early-warning candidate and gets reason codes.
        reason_code_method: "exact" (TreeSHAP) or "approximate" (Saabas path attributions).
        retrain_every_days: a challenger is trained when the newest registered model's data is
            at least this many days older than the night (1: nightly, 7: weekly, 30: monthly).
        seed: seed of the row sampling and of XGBoost's subsampling.
    """

    horizon_months: int = 1
    observation_every_days: int = 7
    delinquent_observation_every_days: int = 1
    training_window_days: int = 182
    validation_days: int = 28
    monitoring_days: int = 28
    required_history_days: int = 35
    sample_current_share: float = 0.75
    max_training_rows: int = 1_000_000
    excluded_buckets: tuple[str, ...] = ("WO",)

    max_depth: int = 4
    learning_rate: float = 0.05
    num_boost_round: int = 600
    early_stopping_rounds: int = 40
    min_child_weight: float = 5.0
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    reg_lambda: float = 1.0
    max_bin: int = 256
    nthread: int = 2

    auc_margin: float = 0.02
    min_auc: float = 0.70
    calibration_tolerance: float = 0.01
    bucket_calibration_tolerance: float = 0.05
    calibration_min_rows: int = 100
    calibration_z: float = 2.0
    bucket_auc_margin: float = 0.03
    bucket_auc_min_rows: int = 300
    bucket_auc_min_class_rows: int = 30
    bucket_auc_warning: float = 0.55

    grade_cutoffs: tuple[float, ...] = (0.01, 0.03, 0.10, 0.30)
    grades: tuple[str, ...] = ("A", "B", "C", "D", "E")
    early_warning_probability: float = 0.05
    reason_code_method: str = "exact"

    retrain_every_days: int = 1

    seed: int = 7

    def __post_init__(self) -> None:
        if self.horizon_months < 1:
            raise ValueError(f"horizon_months must be >= 1, got {self.horizon_months}")
        if self.observation_every_days < 1:
            raise ValueError("observation_every_days must be >= 1")
        if not 1 <= self.delinquent_observation_every_days <= self.observation_every_days:
            raise ValueError("delinquent_observation_every_days must be in [1, "
                             "observation_every_days]")
        if min(self.validation_days, self.training_window_days, self.monitoring_days) < 1:
            raise ValueError("validation_days, training_window_days and monitoring_days must be "
                             ">= 1")
        if self.required_history_days < 0:
            raise ValueError("required_history_days must be >= 0")
        if not 0 < self.sample_current_share <= 1:
            raise ValueError("sample_current_share must be in (0, 1]")
        if self.max_training_rows < 0:
            raise ValueError("max_training_rows must be >= 0 (0: no cap)")
        if len(self.grades) != len(self.grade_cutoffs) + 1:
            raise ValueError("grades needs exactly one more letter than grade_cutoffs has values")
        if list(self.grade_cutoffs) != sorted(self.grade_cutoffs):
            raise ValueError(f"grade_cutoffs must ascend, got {self.grade_cutoffs}")
        if self.retrain_every_days < 1:
            raise ValueError("retrain_every_days must be >= 1")
        if self.bucket_auc_margin < 0:
            raise ValueError("bucket_auc_margin must be >= 0")
        if min(self.bucket_auc_min_rows, self.bucket_auc_min_class_rows) < 1:
            raise ValueError("bucket_auc_min_rows and bucket_auc_min_class_rows must be >= 1")
        if self.reason_code_method not in ("exact", "approximate"):
            raise ValueError("reason_code_method must be 'exact' or 'approximate'")

    def xgb_params(self) -> dict[str, Any]:
        """The booster parameters: `hist`, logistic, seeded and with a fixed thread count."""
        return {
            "objective": "binary:logistic",
            "tree_method": "hist",
            "eval_metric": "logloss",  # early stopping watches it; AUC per round costs a sort
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "reg_lambda": self.reg_lambda,
            "max_bin": self.max_bin,
            "nthread": self.nthread,
            "seed": self.seed,
        }

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, for the model card."""
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelConfig:
        """The inverse of `as_dict`; unknown keys are refused so a typo cannot pass silently."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = set(values) - set(fields)
        if unknown:
            raise ValueError(f"unknown model settings: {sorted(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ModelConfig:
        """Defaults overridden by `OVERDUE_MODEL_<FIELD>` variables (e.g. OVERDUE_MODEL_SEED=11).

        Tuples are comma-separated (OVERDUE_MODEL_GRADE_CUTOFFS=0.01,0.03,0.1,0.3).
        """
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + field.name.upper())
            if raw is None:
                continue
            default = field.default
            if isinstance(default, tuple):
                items = [item.strip() for item in raw.split(",") if item.strip()]
                values[field.name] = tuple(
                    float(item) if default and isinstance(default[0], float) else item
                    for item in items)
            elif isinstance(default, bool):
                values[field.name] = raw.strip().lower() in ("1", "true", "yes")
            elif isinstance(default, int):
                values[field.name] = int(raw)
            elif isinstance(default, float):
                values[field.name] = float(raw)
            else:
                values[field.name] = raw
        return cls(**values)
