"""The training set's shape: which observation nights, which out-of-time split, what a window holds.

Why this shape (DOMAIN.md §3): a night's label exists only once the night is `horizon_months`
old, so only matured nights are read, and the label comes from snapshots dated at or before
`as_of`; validation is the latest matured nights (out of time), never a random split. Observation
nights are sampled (weekly by default) because consecutive nights of one account are nearly the
same row; current accounts are sampled down and weighted back so delinquent accounts are not
drowned while the weighted means stay the book's. The warehouse side reads the labelled rows;
the rules they follow are here.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd

from models.config import ModelConfig


class NotEnoughData(ValueError):
    """The warehouse has no matured night (or too few) to train or validate on."""


def observation_nights(nights: list[date], every_days: int) -> list[date]:
    """Nights at least `every_days` apart, walking back from the latest (ascending result).

    Greedy rather than `night % 7`: a daily book gives exactly weekly nights ending on the latest
    matured night, and a month-end book (or one with missed nights) still gives every night it has.
    """
    picked: list[date] = []
    for night in sorted(set(nights), reverse=True):
        if not picked or (picked[-1] - night).days >= every_days:
            picked.append(night)
    return sorted(picked)


def coverage_of(frame: pd.DataFrame) -> list[dict]:
    """The label_coverage records that came with a frame of labelled rows (else [])."""
    text = frame.attrs.get("coverage")
    return json.loads(text) if text else []


def nights_with_history(nights, first_snapshot: date | None, days: int) -> list[date]:
    """The nights whose look-back of `days` days stays inside the book.

    Night N qualifies when the book's first snapshot is on or before N - `days`: a feature
    reading "within 90 days" or "90 days ago" then reads real history, not the book's start.
    """
    nights = sorted({pd.Timestamp(night).date() for night in nights})
    if first_snapshot is None:
        return nights
    first = pd.Timestamp(first_snapshot).date()
    return [night for night in nights if (night - first).days >= days]


def chosen_nights(matured: list[date], first_snapshot: date | None, config: ModelConfig,
                  span_days: int, every_days: int | None = None) -> list[date]:
    """The observation nights of a window: matured nights within `span_days` of the latest,
    `every_days` (default `observation_every_days`) apart walking back from it, and
    `required_history_days` after the book's first snapshot. Empty when none qualifies."""
    matured = sorted(set(matured))
    if not matured:
        return []
    latest = matured[-1]
    in_window = [night for night in matured if (latest - night).days < span_days]
    every = config.observation_every_days if every_days is None else every_days
    return nights_with_history(observation_nights(in_window, every), first_snapshot,
                               config.required_history_days)


def current_night_weight(nights: list[date], delinquent_nights: list[date]) -> float:
    """Weight of a current row when delinquent rows are also observed on the denser
    `delinquent_nights`: all observation nights over those of every bucket, so each bucket
    weighs in by its account-nights. A delinquent row keeps weight 1, the scale the booster's
    min_child_weight and reg_lambda are set for (weighting delinquent rows down by the same
    ratio instead was measured to cost M1 0.035 AUC)."""
    nights = set(nights)
    if not nights:
        return 1.0
    return len(nights | set(delinquent_nights)) / len(nights)


def whole_lookback(frame: pd.DataFrame, first_snapshot, days: int) -> np.ndarray:
    """Rows whose night is at least `days` after the book's first snapshot (all, when unknown)."""
    if first_snapshot is None or days <= 0:
        return np.ones(len(frame), dtype=bool)
    nights = pd.to_datetime(frame["snapshot_date"])
    return ((nights - pd.Timestamp(first_snapshot)).dt.days >= days).to_numpy(dtype=bool)


def history_rule(config: ModelConfig, first_snapshot: date | None) -> str:
    """The observation-night rule in words, for the model card."""
    start = "unknown" if first_snapshot is None else pd.Timestamp(first_snapshot).date()
    return (f"an observation night is used only when the book's first snapshot ({start}) is at "
            f"least {config.required_history_days} days before it; on a night closer to the "
            f"first snapshot than a feature's look-back, the feature is partial and set to "
            f"missing, in training, validation, monitoring and scoring alike (the model never "
            f"reads a shorter window as the one its name says), and its PSI counts only "
            f"nights where its look-back is whole")


def window_masks(frame: pd.DataFrame,
                 config: ModelConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks of the (train, validation, monitoring) rows of split_windows."""
    nights = pd.to_datetime(frame["snapshot_date"])
    latest = nights.max()
    monitoring_start = latest - pd.Timedelta(days=config.monitoring_days)
    validation_start = monitoring_start - pd.Timedelta(days=config.validation_days)
    in_monitoring = (nights > monitoring_start).to_numpy(dtype=bool)
    in_validation = (nights > validation_start).to_numpy(dtype=bool) & ~in_monitoring
    return ~in_monitoring & ~in_validation, in_validation, in_monitoring


def split_windows(frame: pd.DataFrame,
                  config: ModelConfig) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(train, validation, monitoring): three disjoint, ordered out-of-time windows.

    From the latest night L back: monitoring is the nights within `monitoring_days` of L,
    validation the `validation_days` before those, training everything earlier. The model
    stops early on validation and never sees monitoring, so monitoring's metrics are honest.

    Raises:
        NotEnoughData: when any window has no night (the book is too young for three).
    """
    parts = tuple(frame[mask] for mask in window_masks(frame, config))
    if any(part.empty for part in parts):
        counts = ", ".join(f"{name} {part['snapshot_date'].nunique()}" for name, part in
                           zip(("training", "validation", "monitoring"), parts))
        raise NotEnoughData(
            "the book is too young for three disjoint windows (training, then "
            f"{config.validation_days} days of validation, then the latest "
            f"{config.monitoring_days} days for monitoring): nights {counts}, latest "
            f"{pd.to_datetime(frame['snapshot_date']).max().date() if len(frame) else None}")
    train, validation, monitoring = (part.reset_index(drop=True) for part in parts)
    return train, validation, monitoring


def split_out_of_time(frame: pd.DataFrame,
                      config: ModelConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, validation): validation is the nights within `validation_days` of the latest one.

    Out of time, never random: the champion and the challenger are judged on the same latest
    matured window, and the booster stops early on it.

    Raises:
        NotEnoughData: when either side has no night.
    """
    nights = pd.to_datetime(frame["snapshot_date"])
    latest = nights.max()
    in_validation = nights > latest - pd.Timedelta(days=config.validation_days)
    train, validation = frame[~in_validation], frame[in_validation]
    if train.empty or validation.empty:
        raise NotEnoughData(
            f"need matured nights both before and within the last {config.validation_days} days; "
            f"got {nights.nunique()} night(s) up to {latest.date() if len(nights) else None}")
    train = train.reset_index(drop=True)
    validation = validation.reset_index(drop=True)
    return train, validation


def window_of(frame: pd.DataFrame) -> dict:
    """First and last night, nights, rows, weighted rows and positives of a labelled frame."""
    nights = pd.to_datetime(frame["snapshot_date"])
    weight = frame["weight"] if "weight" in frame.columns else pd.Series(1.0, index=frame.index)
    summary = {
        "first_night": nights.min().date().isoformat() if len(frame) else None,
        "last_night": nights.max().date().isoformat() if len(frame) else None,
        "nights": nights.nunique(),
        "rows": len(frame),
        "weighted_rows": float(weight.sum()),
    }
    if "label" in frame.columns:
        summary["positives"] = int(frame["label"].sum())
    return summary
