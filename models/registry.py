"""Model registry on disk, the champion/challenger gate, and the model card.

Layout under the root directory::

    <root>/events.jsonl          append-only log: registered, gate, promoted, rolled_back
    <root>/<version>/model.json  the booster in XGBoost's own JSON format (never pickle)
    <root>/<version>/features.json   feature list with definitions, encodings, constraints
    <root>/<version>/reference.json  training-window bins of score and features (for PSI)
    <root>/<version>/card.json, card.md  the model card

Why an event log: who promoted what, when and why must survive; the champion and every card's
status (champion, challenger, retired) are derived by replaying the log, and the card files are
refreshed from it. A version directory is written under a temporary name and renamed into place,
so a half-written model is never visible; an exclusive lock serialises writers.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import math
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import xgboost as xgb

from models.config import ModelConfig
from models.features import assert_no_protected_attributes, feature_definitions, lookback_days
from models.trained import TrainedModel

log = logging.getLogger(__name__)

EVENTS_FILE = "events.jsonl"
MODEL_FILE = "model.json"
_VERSION = re.compile(r"^v(\d{4,})$")


class RegistryError(ValueError):
    """A registry operation that cannot be done (unknown version, nothing to roll back to...)."""


# ------------------------------------------------------------------ gate

@dataclass(frozen=True)
class GateDecision:
    """Whether a challenger may replace the champion, and every reason checked."""

    promote: bool
    reasons: list[str] = field(default_factory=list)


def bucket_calibration_allowance(predicted: float, rows: int, config: ModelConfig) -> float:
    """How far a bucket's observed roll rate may sit from its mean prediction: the tolerance plus
    `calibration_z` binomial standard errors, so a thin bucket is not failed on noise alone."""
    return (config.bucket_calibration_tolerance
            + config.calibration_z * math.sqrt(predicted * (1 - predicted) / rows))


def overall_calibration_failure(metrics: dict, config: ModelConfig) -> str | None:
    """Why the window's mean prediction is off its observed rate by more than the tolerance."""
    overall = metrics["mean_predicted"] - metrics["observed_rate"]
    if abs(overall) <= config.calibration_tolerance:
        return None
    return (f"overall calibration: mean predicted {metrics['mean_predicted']:.4f} vs observed "
            f"{metrics['observed_rate']:.4f} (|diff| {abs(overall):.4f} > "
            f"{config.calibration_tolerance})")


def bucket_calibration_misses(metrics: dict, config: ModelConfig) -> dict[str, str]:
    """bucket -> why its mean prediction is off its observed roll rate by more than the allowance.

    Buckets with fewer than calibration_min_rows rows are not judged.
    """
    misses = {}
    for row in metrics["calibration_by_bucket"]:
        if row["rows"] < config.calibration_min_rows:
            continue
        predicted = row["mean_predicted"]
        allowance = bucket_calibration_allowance(predicted, row["rows"], config)
        if not abs(row["difference"]) <= allowance:
            misses[row["bucket"]] = (
                f"bucket {row['bucket']} calibration: mean predicted {predicted:.4f} vs observed "
                f"{row['observed_rate']:.4f} over {row['rows']} rows (|diff| "
                f"{abs(row['difference']):.4f} > {allowance:.4f})")
    return misses


def _counts(row: dict) -> str:
    negatives = row.get("negatives", row["rows"] - row.get("positives", 0))
    text = f"{row['rows']} rows, {row.get('positives')} positives, {negatives} negatives"
    if "accounts" in row:
        text += (f"; {row['accounts']} accounts, {row.get('positive_accounts')} rolled forward, "
                 f"{row.get('negative_accounts')} not")
    return text


def _evidence(row: dict) -> tuple[str, int, int, int]:
    """(unit, count, positives, negatives) a bucket's AUC rests on: distinct accounts when the
    metrics have them (delinquent accounts are observed nightly, so rows overstate the evidence),
    else rows."""
    if "accounts" in row:
        return ("accounts", row["accounts"], row.get("positive_accounts", 0),
                row.get("negative_accounts", 0))
    negatives = row.get("negatives", row["rows"] - row.get("positives", 0))
    return "rows", row["rows"], row.get("positives", 0), negatives


def bucket_auc_allowance(champion_auc: float, row: dict, config: ModelConfig) -> float:
    """How much AUC a challenger may lose inside a bucket: `bucket_auc_margin` plus
    `calibration_z` Hanley-McNeil standard errors of the champion's AUC on the bucket's
    positive and negative accounts, so a bucket of a few hundred accounts is not failed on the
    noise of a reseeded retrain alone (measured: a seed change moved M3 by 0.05 on 100 accounts)."""
    _, _, positives, negatives = _evidence(row)
    area = min(max(champion_auc, 1e-6), 1 - 1e-6)
    q1, q2 = area / (2 - area), 2 * area ** 2 / (1 + area)
    variance = (area * (1 - area) + (positives - 1) * (q1 - area ** 2)
                + (negatives - 1) * (q2 - area ** 2)) / max(positives * negatives, 1)
    return config.bucket_auc_margin + config.calibration_z * math.sqrt(max(variance, 0.0))


def bucket_auc_not_judged(row: dict, config: ModelConfig) -> str | None:
    """Why a bucket's AUC is too thin to judge (too few accounts, positives or negatives, or no
    AUC), or None when it can be judged. The gate and monitoring share this rule."""
    unit, count, positives, negatives = _evidence(row)
    value = row.get("auc")
    if count < config.bucket_auc_min_rows:
        return f"{count} {unit} < {config.bucket_auc_min_rows}"
    if min(positives, negatives) < config.bucket_auc_min_class_rows:
        return (f"{positives} positive, {negatives} negative {unit}: fewer than "
                f"{config.bucket_auc_min_class_rows} of a class")
    if value is None or math.isnan(value):
        return "no AUC"
    return None


def bucket_auc_verdicts(challenger_metrics: dict, champion_metrics: dict | None,
                        config: ModelConfig) -> tuple[bool, list[str]]:
    """(whether every judged bucket holds, one reason per bucket of the challenger's window).

    A bucket is judged when it has enough rows and both classes (bucket_auc_not_judged) and the
    champion has an AUC there; it holds when the challenger's AUC is at least the champion's
    minus `bucket_auc_margin`. With no champion each AUC is recorded, as a warning below
    `bucket_auc_warning`.
    """
    champion = {row["bucket"]: row for row in
                (champion_metrics or {}).get("calibration_by_bucket", [])}
    holds, reasons = True, []
    for row in challenger_metrics["calibration_by_bucket"]:
        bucket, value = row["bucket"], row.get("auc")
        thin = bucket_auc_not_judged(row, config)
        if thin:
            reasons.append(f"bucket {row['bucket']} AUC {_number(value)} not judged: {thin}")
            continue
        if champion_metrics is None:
            below = value < config.bucket_auc_warning
            reasons.append(f"{'warning: ' if below else ''}bucket {bucket} AUC {value:.4f} "
                           f"{'<' if below else '>='} {config.bucket_auc_warning} "
                           f"({_counts(row)})")
            continue
        theirs = champion.get(bucket, {}).get("auc")
        if theirs is None or math.isnan(theirs):
            reasons.append(f"bucket {bucket} AUC {value:.4f} not judged: the champion has no "
                           "AUC there")
            continue
        allowance = bucket_auc_allowance(theirs, row, config)
        ok = value >= theirs - allowance
        holds = holds and ok
        reasons.append(f"bucket {bucket} AUC {value:.4f} {'>=' if ok else '<'} champion "
                       f"{theirs:.4f} - allowance {allowance:.4f} (margin "
                       f"{config.bucket_auc_margin} + {config.calibration_z} standard errors; "
                       f"{_counts(row)})")
    return holds, reasons


def gate(challenger_metrics: dict, champion_metrics: dict | None,
         config: ModelConfig) -> GateDecision:
    """Promote the challenger only if AUC holds up and calibration holds.

    Calibration holds when the window's mean prediction is within `calibration_tolerance` of the
    observed rate, and every bucket's is within its allowance or, when it is not, no further off
    than the champion's on the same window (drift in a bucket's roll rate misleads both models
    alike; refusing the challenger would keep an older model that misses by as much).

    Inside every bucket with enough rows and both classes, the challenger's AUC must be at least
    the champion's minus `bucket_auc_margin` (bucket_auc_verdicts): a challenger better overall
    can still rank worse inside M1, which is where collectors use the score.

    With no champion the alternative is no model at all: the challenger needs AUC >= `min_auc`
    and the overall calibration; a bucket miss is then recorded as a warning (the monitoring
    check `roll_rate_by_bucket` keeps showing it until a better model replaces this one), and
    so is a bucket AUC below `bucket_auc_warning`.

    Both sets of metrics must come from the same out-of-time window (models.evaluate.evaluate on
    the same frame); a challenger is refused when the windows differ.

    Returns:
        The decision with every reason, passed or failed, in words for the event log.
    """
    reasons: list[str] = []
    promote = True
    if champion_metrics is None:
        reasons.append("no champion yet")
        if challenger_metrics["auc"] >= config.min_auc:
            reasons.append(f"AUC {challenger_metrics['auc']:.4f} >= floor {config.min_auc}")
        else:
            promote = False
            reasons.append(f"AUC {challenger_metrics['auc']:.4f} < floor {config.min_auc}")
    else:
        if challenger_metrics.get("window") != champion_metrics.get("window"):
            promote = False
            reasons.append(
                f"not the same window: challenger {challenger_metrics.get('window')} vs "
                f"champion {champion_metrics.get('window')}")
        floor = champion_metrics["auc"] - config.auc_margin
        if challenger_metrics["auc"] >= floor:
            reasons.append(f"AUC {challenger_metrics['auc']:.4f} >= champion "
                           f"{champion_metrics['auc']:.4f} - margin {config.auc_margin}")
        else:
            promote = False
            reasons.append(f"AUC {challenger_metrics['auc']:.4f} < champion "
                           f"{champion_metrics['auc']:.4f} - margin {config.auc_margin}")
    buckets_hold, bucket_reasons = bucket_auc_verdicts(challenger_metrics, champion_metrics,
                                                       config)
    promote = promote and buckets_hold
    reasons += bucket_reasons
    overall = overall_calibration_failure(challenger_metrics, config)
    if overall:
        promote = False
        reasons.append(overall)
    else:
        reasons.append(f"overall calibration within {config.calibration_tolerance}")
    misses = bucket_calibration_misses(challenger_metrics, config)
    champion_gaps = ({row["bucket"]: abs(row["difference"])
                      for row in champion_metrics["calibration_by_bucket"]}
                     if champion_metrics else {})
    for bucket, text in misses.items():
        challenger_gap = next(abs(row["difference"]) for row in
                              challenger_metrics["calibration_by_bucket"]
                              if row["bucket"] == bucket)
        if champion_metrics is None:
            reasons.append(f"warning: {text}")
        elif bucket in champion_gaps and challenger_gap <= champion_gaps[bucket]:
            reasons.append(f"{text}, no further off than the champion's "
                           f"{champion_gaps[bucket]:.4f}")
        else:
            promote = False
            reasons.append(text)
    if not misses:
        reasons.append("calibration holds in every bucket with "
                       f">= {config.calibration_min_rows} rows")
    return GateDecision(promote, reasons)


# ------------------------------------------------------------------ model card

def model_sha256(model: TrainedModel) -> str:
    """sha256 of the model file as stored (XGBoost JSON)."""
    return hashlib.sha256(model.model_bytes("json")).hexdigest()


def build_card(model: TrainedModel, metrics: dict, config: ModelConfig, *, code: dict,
               stability: dict | None = None, coverage: list[dict] | None = None,
               as_of: str | None = None, champion_metrics: dict | None = None,
               decision: GateDecision | None = None, monitoring_metrics: dict | None = None,
               history_rule: str | None = None) -> dict:
    """The model card as JSON-ready data: windows, rows, parameters, metrics, PSI, code commit.

    Three windows, disjoint and in order: training, validation (early stopping and the gate),
    monitoring (held out; `monitoring_metrics` are on it). `history_rule` says which nights
    were left out for a look-back reaching before the book's first snapshot.

    `code` is {"commit", "dirty"} of the checkout that trained the model: the caller knows where
    that checkout is, the model does not.
    """
    totals = {}
    if coverage:
        for key in ("accounts", "excluded_bucket", "absent_at_label_date", "labelled",
                    "rolled_forward"):
            totals[key] = int(sum(row[key] for row in coverage))
    return {
        "model": "roll_forward",
        "target": (f"bucket {model.horizon_months} month(s) after the night worse than the "
                   "night's bucket (write-off counts as worse); DOMAIN.md §3"),
        "population": f"accounts not in {list(model.excluded_buckets)} on the night",
        "horizon_months": model.horizon_months,
        "data_window": {
            "as_of": as_of,
            "observation_every_days": config.observation_every_days,
            "delinquent_observation_every_days": config.delinquent_observation_every_days,
            "training": model.training_window,
            "validation": model.validation_window,
            "monitoring": model.monitoring_window,
            "first_snapshot": model.first_snapshot,
            "history_rule": history_rule,
            "label_coverage": totals,
        },
        "rows": {"training": model.training_window["rows"],
                 "validation": model.validation_window["rows"],
                 "monitoring": model.monitoring_window.get("rows")},
        "parameters": {"xgboost": model.params, "best_iteration": model.best_iteration,
                       "trees": model.best_iteration + 1, "config": config.as_dict(),
                       "xgboost_version": xgb.__version__},
        "features": list(model.feature_names),
        "dropped_features": dict(model.dropped_features),
        "partial_lookbacks": partial_lookback_rows(model),
        "metrics": {"validation": metrics, "champion_on_same_window": champion_metrics,
                    "monitoring": monitoring_metrics},
        "psi": _without_bins(stability or {}),
        "gate": None if decision is None else {"promote": decision.promote,
                                               "reasons": decision.reasons},
        "code": dict(code),
        "status": "challenger",
    }


def partial_lookback_rows(model: TrainedModel) -> list[dict]:
    """Per feature with a partial look-back in training: its look-back and on how many of the
    training rows it was set to missing (dropped features included, marked)."""
    if not model.partial_training_rows:
        return []
    days = lookback_days(model.partial_training_rows)
    rows = model.training_window.get("rows")
    return [{"feature": name, "lookback_days": days[name], "partial_training_rows": count,
             "training_rows": rows, "dropped": name in model.dropped_features}
            for name, count in sorted(model.partial_training_rows.items(),
                                      key=lambda item: (days[item[0]], item[0]))]


def _without_bins(stability: dict) -> dict:
    """PSI figures without their bin shares (the registry's reference.json has the bins)."""
    if not stability:
        return {}
    def strip(row: dict) -> dict:
        return {k: v for k, v in row.items() if k != "bins"}
    return {**stability, "score": strip(stability["score"]),
            "features": [strip(row) for row in stability["features"]]}


def _number(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _metrics_markdown(title: str, metrics: dict) -> list[str]:
    w = metrics.get("window") or {}
    lines = ["", f"## {title}", "",
             (f"{w.get('first_night')} .. {w.get('last_night')}: {w.get('nights')} nights, "
              f"{w.get('rows')} rows."), "",
             "| AUC | Gini | KS | Brier | observed | mean predicted |", "|---|---|---|---|---|---|",
             (f"| {_number(metrics['auc'])} | {_number(metrics['gini'])} | "
              f"{_number(metrics['ks'])} | {_number(metrics['brier'])} | "
              f"{_number(metrics['observed_rate'])} | {_number(metrics['mean_predicted'])} |"),
             "", "### Discrimination and calibration by bucket", "",
             ("AUC and KS inside a bucket rank accounts of the same delinquency against each "
              "other (the overall ones are mostly the bucket itself); rows and positives say "
              "how far each can be trusted."), "",
             "| bucket | rows | positives | AUC | KS | mean predicted | observed |",
             "|---|---|---|---|---|---|---|",
             (f"| all | {w.get('rows', '')} | {w.get('positives', '')} | "
              f"{_number(metrics['auc'])} | {_number(metrics['ks'])} | "
              f"{_number(metrics['mean_predicted'])} | {_number(metrics['observed_rate'])} |")]
    for row in metrics["calibration_by_bucket"]:
        lines.append(f"| {row['bucket']} | {row['rows']} | {row.get('positives', '')} | "
                     f"{_number(row.get('auc'))} | {_number(row.get('ks'))} | "
                     f"{_number(row['mean_predicted'])} | {_number(row['observed_rate'])} |")
    lines += ["", "### Lift and calibration by decile (1 = riskiest)", "",
              "| decile | mean predicted | observed | lift | cumulative capture |",
              "|---|---|---|---|---|"]
    for lift, calibration in zip(metrics["lift_by_decile"], metrics["calibration_by_decile"]):
        lines.append(f"| {lift['decile']} | {_number(calibration['mean_predicted'])} | "
                     f"{_number(lift['observed_rate'])} | {_number(lift['lift'], 2)} | "
                     f"{_number(lift['cumulative_capture'], 3)} |")
    return lines


def card_markdown(card: dict) -> str:
    """The card for people: the same facts as card.json, as Markdown tables."""
    metrics = card["metrics"]["validation"]
    window = card["data_window"]
    lines = [
        f"# Model card: {card['model']} {card.get('version', '')}",
        "",
        f"- **Status**: {card['status']}",
        f"- **Registered**: {card.get('registered_at', '')}",
        f"- **Target**: {card['target']}",
        f"- **Population**: {card['population']}",
        f"- **Code**: {card['code']['commit']}" + (" (uncommitted changes)"
                                                   if card['code'].get('dirty') else ""),
        "",
        "## Data window",
        "",
        "| part | first night | last night | nights | rows | positives |",
        "|---|---|---|---|---|---|",
    ]
    for part in ("training", "validation", "monitoring"):
        w = window.get(part) or {}
        if w:
            lines.append(f"| {part} | {w['first_night']} | {w['last_night']} | {w['nights']} | "
                         f"{w['rows']} | {w.get('positives', '')} |")
    lines += ["", ("Disjoint and in this order: the booster learns on training, stops early on "
                   "validation (which the gate also judges), and never sees monitoring."), "",
              f"As of {window['as_of']}; observation nights every "
              f"{window['observation_every_days']} days"
              + (f", every {window['delinquent_observation_every_days']} for delinquent rows "
                 "(current rows weighted for the nights between)"
                 if window.get("delinquent_observation_every_days",
                               window["observation_every_days"])
                 != window["observation_every_days"] else "")
              + ". Label coverage: "
              + (", ".join(f"{k} {v}" for k, v in window["label_coverage"].items()) or "n/a")]
    if window.get("history_rule"):
        lines += ["", f"Look-back rule: {window['history_rule']}."]
    lines += _metrics_markdown("Validation metrics (out of time, early stopping and the gate)",
                               metrics)
    if card["metrics"].get("monitoring"):
        lines += _metrics_markdown("Monitoring metrics (held-out window, never seen in training)",
                                   card["metrics"]["monitoring"])
    psi = card.get("psi") or {}
    if psi:
        lines += ["", "## Stability (PSI, training window vs validation window)", "",
                  f"Score: {_number(psi['score']['psi'])} ({psi['score']['status']})", "",
                  "| feature | PSI | status |", "|---|---|---|"]
        for row in psi["features"]:
            lines.append(f"| {row['feature']} | {_number(row['psi'])} | {row['status']} |")
    if card.get("partial_lookbacks"):
        lines += ["", "## Partial look-backs in training (set to missing)", "",
                  "| feature | look-back days | partial training rows | of rows | dropped |",
                  "|---|---|---|---|---|"]
        lines += [f"| {row['feature']} | {row['lookback_days']} | "
                  f"{row['partial_training_rows']} | {row['training_rows']} | "
                  f"{'yes' if row['dropped'] else ''} |" for row in card["partial_lookbacks"]]
    if card.get("dropped_features"):
        lines += ["", "## Features left out before training", "",
                  "| feature | why |", "|---|---|"]
        lines += [f"| {name} | {why} |" for name, why in card["dropped_features"].items()]
    if card.get("gate"):
        lines += ["", "## Gate", "", f"Promote: {card['gate']['promote']}", ""]
        lines += [f"- {reason}" for reason in card["gate"]["reasons"]]
    if card.get("benchmarks"):
        lines += ["", "## Benchmarks (make bench)", "", "```json",
                  json.dumps(card["benchmarks"], indent=2, sort_keys=True, default=str), "```"]
    parameters = card["parameters"]
    lines += ["", "## Parameters", "", (f"Trees: {parameters['trees']} (best iteration "
                                        f"{parameters['best_iteration']}), XGBoost "
                                        f"{parameters['xgboost_version']}"), "",
              "```json", json.dumps(parameters["xgboost"], indent=2, sort_keys=True), "```",
              "", "## Features", ""]
    lines += [f"- `{name}`" for name in card["features"]]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ registry

def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_atomic(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)


def _finite(data):
    """NaN and infinities as null: strict JSON readers reject them."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(value) for value in data]
    return data


def _json(data) -> str:
    return json.dumps(_finite(data), ensure_ascii=False, indent=2, sort_keys=True,
                      allow_nan=False) + "\n"


class ModelRegistry:
    """Versions under `root`, the champion, and the append-only event log."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    # --- internals
    @contextlib.contextmanager
    def _locked(self):
        with open(self.root / ".lock", "a", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _append(self, event: dict) -> dict:
        event = {"at": _now(), **event}
        line = json.dumps(_finite(event), ensure_ascii=False, sort_keys=True) + "\n"
        with open(self.root / EVENTS_FILE, "a", encoding="utf-8") as out:
            out.write(line)
            out.flush()
            os.fsync(out.fileno())
        return event

    def _versions(self) -> list[str]:
        found = [p.name for p in self.root.iterdir() if p.is_dir() and _VERSION.match(p.name)]
        return sorted(found, key=lambda name: int(_VERSION.match(name).group(1)))

    def _path(self, version: str) -> Path:
        path = self.root / version
        if not _VERSION.match(version) or not (path / MODEL_FILE).is_file():
            raise RegistryError(f"no model version {version!r} in {self.root}")
        return path

    def _state(self) -> tuple[dict[str, str], list[str]]:
        """(status of every version, champion history) by replaying the event log."""
        status: dict[str, str] = {}
        history: list[str] = []
        for event in self.events():
            kind, version = event["event"], event.get("version")
            if kind == "registered":
                status[version] = "challenger"
            elif kind == "promoted":
                if history:
                    status[history[-1]] = "retired"
                history.append(version)
                status[version] = "champion"
            elif kind == "rolled_back":
                status[history.pop()] = "retired"
                status[history[-1]] = "champion"
        return status, history

    def _refresh_cards(self, versions: list[str]) -> None:
        status, _ = self._state()
        for version in versions:
            path = self._path(version)
            card = json.loads((path / "card.json").read_text(encoding="utf-8"))
            card["status"] = status.get(version, card.get("status"))
            _write_atomic(path / "card.json", _json(card))
            _write_atomic(path / "card.md", card_markdown(card))

    # --- API
    def register(self, model: TrainedModel, card: dict, *,
                 source_definitions: Mapping[str, str]) -> str:
        """Store a new version as a challenger; returns its version (v0001, v0002, ...).

        `source_definitions` ({account_features column: definition}, the data dictionary) go
        into features.json beside each feature's own definition.
        """
        assert_no_protected_attributes(model.feature_names)
        with self._locked():
            versions = self._versions()
            number = int(_VERSION.match(versions[-1]).group(1)) + 1 if versions else 1
            version = f"v{number:04d}"
            card = {**card, "version": version, "registered_at": _now(), "status": "challenger",
                    "model_file": MODEL_FILE, "model_format": "xgboost-json",
                    "model_sha256": model_sha256(model)}
            staging = Path(tempfile.mkdtemp(dir=self.root, prefix=f".{version}."))
            (staging / MODEL_FILE).write_bytes(model.model_bytes("json"))
            (staging / "features.json").write_text(_json({
                "features": feature_definitions(source_definitions, model.feature_names),
                "horizon_months": model.horizon_months,
                "excluded_buckets": list(model.excluded_buckets),
            }), encoding="utf-8")
            (staging / "reference.json").write_text(_json(model.reference), encoding="utf-8")
            (staging / "card.json").write_text(_json(card), encoding="utf-8")
            (staging / "card.md").write_text(card_markdown(card), encoding="utf-8")
            os.rename(staging, self.root / version)
            self._append({"event": "registered", "version": version})
        model.version = version
        log.info("registered model %s in %s", version, self.root)
        return version

    def find(self, as_of: str, sha256: str) -> str | None:
        """The version trained as of `as_of` whose model file has this sha256, if any.

        Why: training is deterministic, so a rerun of a night retrains the same model; the
        registry then reuses that version instead of registering a duplicate.
        """
        for card in reversed(self.list()):
            if (card.get("data_window", {}).get("as_of") == as_of
                    and card.get("model_sha256") == sha256):
                return card["version"]
        return None

    def latest_as_of(self) -> str | None:
        """The newest data date (`as_of`) of any registered version: retrain cadence reads it."""
        dates = [card.get("data_window", {}).get("as_of") for card in self.list()]
        dates = [d for d in dates if d]
        return max(dates) if dates else None

    def gate_decision(self, version: str) -> GateDecision | None:
        """The last gate decision logged for `version`."""
        for event in reversed(self.events()):
            if event["event"] == "gate" and event.get("version") == version:
                return GateDecision(bool(event["promote"]), list(event.get("reasons", [])))
        return None

    def champion(self) -> str | None:
        """The current champion's version, or None before the first promotion."""
        _, history = self._state()
        return history[-1] if history else None

    def load(self, version: str) -> TrainedModel:
        """The model of `version`, ready to score (booster from its XGBoost JSON file)."""
        path = self._path(version)
        booster = xgb.Booster()
        booster.load_model(str(path / MODEL_FILE))
        features = json.loads((path / "features.json").read_text(encoding="utf-8"))
        card = json.loads((path / "card.json").read_text(encoding="utf-8"))
        names = [row["name"] for row in features["features"]]
        assert_no_protected_attributes(names)
        params = card["parameters"]["xgboost"]
        booster.set_param({"nthread": int(params.get("nthread", 2))})
        return TrainedModel(
            booster=booster, feature_names=names, params=params,
            best_iteration=int(card["parameters"]["best_iteration"]),
            training_window=card["data_window"]["training"],
            validation_window=card["data_window"]["validation"],
            horizon_months=int(features["horizon_months"]),
            excluded_buckets=tuple(features["excluded_buckets"]),
            reference=json.loads((path / "reference.json").read_text(encoding="utf-8")),
            version=version,
            monitoring_window=card["data_window"].get("monitoring") or {},
            dropped_features=card.get("dropped_features") or {},
            first_snapshot=card["data_window"].get("first_snapshot"),
            partial_training_rows={row["feature"]: row["partial_training_rows"]
                                   for row in card.get("partial_lookbacks") or []})

    def card(self, version: str) -> dict:
        """One version's card, with its status as the event log says."""
        card = json.loads((self._path(version) / "card.json").read_text(encoding="utf-8"))
        status, _ = self._state()
        return {**card, "status": status.get(version, card.get("status"))}

    def list(self) -> list[dict]:
        """Every version's card, oldest first, each with its current status."""
        status, _ = self._state()
        cards = []
        for version in self._versions():
            card = json.loads((self.root / version / "card.json").read_text(encoding="utf-8"))
            cards.append({**card, "status": status.get(version, card.get("status"))})
        return cards

    def record_gate(self, version: str, decision: GateDecision, against: str | None) -> dict:
        """Log a gate decision about `version` (compared with champion `against`)."""
        self._path(version)
        with self._locked():
            return self._append({"event": "gate", "version": version, "against": against,
                                 "promote": decision.promote, "reasons": decision.reasons})

    def promote(self, version: str, reason: str, by: str) -> dict:
        """Make `version` the champion; the previous champion is retired. Logged with who and why.

        Raises:
            RegistryError: unknown version, or it is already the champion.
        """
        self._path(version)
        with self._locked():
            _, history = self._state()
            previous = history[-1] if history else None
            if previous == version:
                raise RegistryError(f"{version} is already the champion")
            event = self._append({"event": "promoted", "version": version,
                                  "previous_champion": previous, "reason": reason, "by": by})
            self._refresh_cards([v for v in (previous, version) if v])
        log.info("promoted %s (was %s) by %s: %s", version, previous, by, reason)
        return event

    def rollback(self, reason: str, by: str) -> dict:
        """Retire the champion and reinstate the one before it. Logged with who and why.

        Raises:
            RegistryError: when there is no earlier champion to go back to.
        """
        with self._locked():
            _, history = self._state()
            if len(history) < 2:
                raise RegistryError("no earlier champion to roll back to")
            current, restored = history[-1], history[-2]
            event = self._append({"event": "rolled_back", "version": restored,
                                  "from_version": current, "reason": reason, "by": by})
            self._refresh_cards([current, restored])
        log.info("rolled back %s to %s by %s: %s", current, restored, by, reason)
        return event

    def events(self) -> list[dict]:
        """The event log, oldest first."""
        path = self.root / EVENTS_FILE
        if not path.is_file():
            return []
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
