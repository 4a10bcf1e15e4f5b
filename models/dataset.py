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
