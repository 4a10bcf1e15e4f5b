"""One retrain, end to end: out-of-time split, train, evaluate, register, gate.

Why in one place: the champion must be judged on exactly the window the challenger is, and the
card, the gate decision and the promotion must all land in the registry together. It starts from
the matured labels the warehouse side has read, and the code commit and data dictionary it knows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import pandas as pd

from models.config import ModelConfig
from models.dataset import coverage_of, history_rule, split_windows, window_masks
from models.encoded import Encoded, encode, fits, predict, take
from models.evaluate import evaluate
from models.monitoring import stability
from models.registry import GateDecision, ModelRegistry, build_card, gate, model_sha256
from models.train import train_model
from models.trained import TrainedModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrainResult:
    """What a retrain produced and decided."""

    version: str
    decision: GateDecision
    reused: bool
    champion_before: str | None
    champion_after: str | None
    metrics: dict
    champion_metrics: dict | None


def retrain(labels: pd.DataFrame, as_of: date, registry: ModelRegistry, config: ModelConfig, *,
            code: dict, source_definitions: Mapping[str, str],
            by: str = "retrain") -> RetrainResult:
    """Train a challenger on the matured labels as of `as_of`; promote it if it passes the gate.

    Training, validation (early stopping, the gate) and monitoring (held out: the card's
    monitoring metrics) are three disjoint windows, oldest first (models.dataset.split_windows).

    Args:
        labels: the matured labelled rows as of `as_of`, with their label coverage and the
            book's first snapshot night in `attrs`.
        as_of: the latest night whose data was used (labels up to it).
        registry: where the challenger is registered and the decision logged.
        config: model settings (also recorded on the card).
        code: {"commit", "dirty"} of the code that trains it, for the card.
        source_definitions: {account_features column: definition}, for features.json.
        by: who or what asked for the retrain, for the event log.

    Returns:
        The new version, the gate's decision and the champion before and after.

    Raises:
        NotEnoughData: when the labels do not fill three windows.
    """
    first_snapshot = labels.attrs.get("first_snapshot")
    split_windows(labels.loc[:, ["snapshot_date"]], config)  # NotEnoughData before any work
    every = encode(labels, first_snapshot)
    masks = window_masks(labels, config)
    train, validation, monitoring = (
        take(every, mask, labels.loc[mask, [c for c in ("snapshot_date", "weight", "label")
                                             if c in labels.columns]])
        for mask in masks)
    model = train_model(None, None, config, first_snapshot=first_snapshot,
                        encoded=(train, validation))
    model.monitoring_window = monitoring.window
    matrices: dict = {}
    scores = predict(model, validation, matrices)
    metrics = evaluate(model, None, encoded=validation, scores=scores)
    champion_before = registry.champion()
    existing = registry.find(as_of.isoformat(), model_sha256(model))
    if existing:
        log.info("retrain as of %s gave the model already registered as %s: reused", as_of, existing)
        card = registry.card(existing)
        decision = registry.gate_decision(existing) or GateDecision(False, ["no gate on record"])
        return RetrainResult(existing, decision, True, champion_before, champion_before,
                             card["metrics"]["validation"],
                             card["metrics"].get("champion_on_same_window"))
    champion_metrics = (_judged(registry.load(champion_before), validation, matrices,
                                labels[masks[1]])
                        if champion_before else None)
    decision = gate(metrics, champion_metrics, config)
    card = build_card(model, metrics, config, code=code,
                      stability=stability(model, None, encoded=validation, scores=scores),
                      coverage=coverage_of(labels), as_of=as_of.isoformat(),
                      champion_metrics=champion_metrics, decision=decision,
                      monitoring_metrics=evaluate(model, None, encoded=monitoring),
                      history_rule=history_rule(config, first_snapshot))
    version = registry.register(model, card, source_definitions=source_definitions)
    registry.record_gate(version, decision, champion_before)
    if decision.promote:
        registry.promote(version, reason="gate passed: " + "; ".join(decision.reasons), by=by)
    log.info("retrain as of %s: %s %s (champion %s)", as_of, version,
             "promoted" if decision.promote else "kept as challenger", registry.champion())
    return RetrainResult(version, decision, False, champion_before, registry.champion(), metrics,
                         champion_metrics)


def _judged(champion: TrainedModel, validation: Encoded, matrices: dict,
            rows: pd.DataFrame) -> dict:
    """The champion's metrics on the challenger's validation rows, predicted from the same
    matrix when their columns agree; `rows` (those rows of the frame) are encoded again only
    for a champion that masks partial look-backs from another first snapshot."""
    if fits(validation, champion.feature_names, champion.first_snapshot):
        return evaluate(champion, None, encoded=validation,
                        scores=predict(champion, validation, matrices))
    return evaluate(champion, rows.reset_index(drop=True))


def retrain_due(registry: ModelRegistry, night: date, config: ModelConfig) -> bool:
    """Whether `night` is a retrain night: no model yet, or the newest is old enough."""
    latest = registry.latest_as_of()
    if latest is None:
        return True
    return (night - date.fromisoformat(latest)).days >= config.retrain_every_days or (
        night.isoformat() == latest)
