"""Model monitoring: stability against the training window, performance on newly matured labels.

Why both: PSI says tonight's book no longer looks like the one the model learned from (before
any label can say so); AUC/KS and predicted-vs-observed roll rate per bucket, on labels that have
matured since training, say whether the model is still right (DOMAIN.md §3, §6).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from models.encoded import Encoded, encode, fits, predict, take
from models.evaluate import evaluate
from models.features import lookback_days
from models.psi import NO_DATA, bin_counts, has_values, psi_or_no_data, psi_status
from models.trained import TrainedModel


def stability(model: TrainedModel, frame: pd.DataFrame | Iterable[pd.DataFrame] | None, *,
              encoded: Encoded | None = None, scores: np.ndarray | None = None,
              score_counts: np.ndarray | None = None) -> dict:
    """PSI of the score and of every feature of `frame` against the model's training window.

    `frame` may also be chunks of one night (bins are counted chunk by chunk: a 10M-account
    night need not be in memory whole; the PSI is the same). Rows outside the model's
    population are left out, as they were from training; so, per feature, are rows of nights
    whose look-back reaches before the book's first snapshot (model.first_snapshot).

    Returns:
        {"rows", "score": {...}, "features": [{...}, ...]}: each {"feature", "psi", "status",
        "bins": {"edges", "reference", "tonight"}} (shares, the missing bin last), "no_data" the
        status (psi NaN) when either side has no value, with "why"; features sorted by PSI,
        largest first, no-data ones last.
    """
    reference = model.reference
    lookbacks = lookback_days(model.feature_names)
    given_score_counts = score_counts
    score_counts = np.zeros(len(reference["score"]["edges"]) + 2)
    feature_counts = {name: np.zeros(len(reference["features"][name]["edges"]) + 2)
                      for name in model.feature_names}
    rows = 0
    if encoded is not None and fits(encoded, model.feature_names, model.first_snapshot):
        parts = [(encoded, scores)]
    else:
        frames = [frame] if isinstance(frame, pd.DataFrame) else frame
        parts = ((encode(chunk, model.first_snapshot, model.feature_names), None)
                 for chunk in frames)
    for rows_encoded, rows_scores in parts:
        population = ~np.isin(rows_encoded.buckets, list(model.excluded_buckets))
        if not population.any():
            continue
        rows_encoded = take(rows_encoded, population)
        rows += len(rows_encoded)
        weights = rows_encoded.weights
        if given_score_counts is None:
            rows_scores = (predict(model, rows_encoded) if rows_scores is None
                           else np.asarray(rows_scores)[population])
            score_counts += bin_counts(rows_scores, reference["score"]["edges"], weights)
        values = rows_encoded.columns(model.feature_names, "float64")
        for position, name in enumerate(model.feature_names):
            whole = rows_encoded.whole(lookbacks[name])
            feature_counts[name] += bin_counts(values[whole, position],
                                               reference["features"][name]["edges"],
                                               weights[whole])
    if given_score_counts is not None:
        score_counts = np.asarray(given_score_counts, dtype="float64")
    return stability_of_counts(model, rows, score_counts, feature_counts)


def stability_of_counts(model: TrainedModel, rows: int, score_counts: np.ndarray,
                        feature_counts: dict[str, np.ndarray]) -> dict:
    """stability's report from tonight's weight per reference bin (the missing bin last) of the
    score and of each feature (rows whose look-back is whole only), however they were counted."""
    reference = model.reference
    lookbacks = lookback_days(model.feature_names)

    def entry(reference_bins: dict, counts: np.ndarray, days: int = 0) -> dict:
        value = psi_or_no_data(reference_bins["shares"], counts)
        total = counts.sum()
        row = {"psi": value, "status": psi_status(value),
               "bins": {"edges": list(reference_bins["edges"]),
                        "reference": list(reference_bins["shares"]),
                        "tonight": [float(c / total) if total else 0.0 for c in counts]}}
        if row["status"] == NO_DATA:
            row["why"] = _no_data_why(reference_bins["shares"], counts, days, model)
        return row

    features = [{"feature": name, **entry(reference["features"][name], feature_counts[name],
                                          lookbacks[name])}
                for name in model.feature_names]
    features.sort(key=lambda row: (np.isnan(row["psi"]),
                                   -np.nan_to_num(row["psi"]), row["feature"]))
    return {"rows": rows, "score": entry(reference["score"], score_counts),
            "features": features}


def _no_data_why(reference_shares, counts: np.ndarray, days: int, model: TrainedModel) -> str:
    if not has_values(reference_shares):
        if days and model.first_snapshot:
            return (f"no training night with its {days}-day look-back inside the book "
                    f"(first snapshot {model.first_snapshot}), or null on every one")
        return "null on every training row"
    if counts.sum() == 0:
        return (f"no row tonight with its {days}-day look-back inside the book"
                if days else "no row tonight")
    return "null on every row tonight"


def monitor(model: TrainedModel, tonight: pd.DataFrame | Iterable[pd.DataFrame] | None,
            matured: pd.DataFrame | None = None, *, tonight_stability: dict | None = None) -> dict:
    """Tonight's monitoring report for one model.

    Args:
        model: the champion.
        tonight: account_features rows of tonight (or chunks of them; see stability).
        tonight_stability: stability of tonight already counted (pipelines.lib.model.psi_tonight);
            then `tonight` is not read.
        matured: labelled rows of the monitoring window: matured nights after the model's
            validation window, which it neither trained nor stopped early on (the warehouse
            side's latest_matured_window), or None/empty when none yet.

    Returns:
        model_version, stability (PSI of score and features, with their bins), performance
        (AUC, Gini, KS, Brier and calibration by decile, on that window, with its nights and
        rows, or None), roll_rate_by_bucket (per bucket: rows, positives, negatives, mean
        predicted vs observed roll rate, AUC and KS inside the bucket; or None) and alerts
        (PSI > 0.25, a feature null tonight, in words).
    """
    if tonight_stability is None:
        tonight_stability = stability(model, tonight)
    report = {"model_version": model.version, "stability": tonight_stability,
              "performance": None, "roll_rate_by_bucket": None, "alerts": []}
    if matured is not None and not matured.empty:
        metrics = evaluate(model, matured)
        report["performance"] = {key: metrics[key] for key in (
            "window", "auc", "gini", "ks", "brier", "observed_rate", "mean_predicted",
            "calibration_by_decile")}
        report["roll_rate_by_bucket"] = metrics["calibration_by_bucket"]
    score = report["stability"]["score"]
    if score["status"] == "act":
        report["alerts"].append(f"score PSI {score['psi']:.3f} > 0.25: act")
    for row in report["stability"]["features"]:
        if row["status"] == "act":
            report["alerts"].append(f"feature {row['feature']} PSI {row['psi']:.3f} > 0.25: act")
        elif row["status"] == NO_DATA and row["why"] == "null on every row tonight":
            report["alerts"].append(f"feature {row['feature']}: null on every row tonight, "
                                    "though the training window had values")
    return report
