"""Nightly scoring: probability, risk grade and model version; reason codes for who needs them.

Reason codes use XGBoost's own per-account contributions (`pred_contribs`), computed only for the
accounts a collector will read about: every overdue account and every early-warning candidate
(about a tenth of the simulated book), never the whole book.

Exact (TreeSHAP) is the default, chosen on measurement (2 cores, this repo's 3,000-account test
book): for the shallow model trained here (depth 4, ~60-110 trees) exact contributions ran at
~6,000-19,000 rows/s and Saabas approximations (`approx_contribs=True`) at ~130,000-190,000
rows/s; end to end, with the phrases, 5,600 vs 7,600 accounts/s, so the approximation saves
little. It is also not faithful: its top reason matched the exact one for 80 % of accounts and
its top-three set for only 54 %. A 300-tree depth-6 model (the STACK.md shape) measured ~800
rows/s exact: 100,000 needing accounts would then take about two minutes. Set
`ModelConfig.reason_code_method = "approximate"` (or pass method=) only when a much larger model
or book makes exact contributions miss the nightly window.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from models.config import ModelConfig
from models.features import feature_by_name, partial_lookbacks
from models.reason_phrases import FrameRow, render_reasons, value_text
from models.trained import TrainedModel

SCORE_COLUMNS = ["account_id", "probability", "risk_grade", "model_version"]
REASON_COLUMNS = ["account_id", "rank", "feature", "contribution", "value", "reason_zh",
                  "reason_en"]


def in_population(model: TrainedModel, frame: pd.DataFrame) -> np.ndarray:
    """Rows the model is for: not in an excluded bucket (a written-off account cannot roll)."""
    return ~frame["bucket"].isin(list(model.excluded_buckets)).to_numpy(dtype=bool)


def risk_grades(probability: np.ndarray, config: ModelConfig) -> np.ndarray:
    """Grade letters: A below the first cut-off ... E at or above the last; None when unscored."""
    probability = np.asarray(probability, dtype="float64")
    index = np.searchsorted(np.asarray(config.grade_cutoffs), probability, side="right")
    letters = np.asarray(config.grades, dtype=object)[np.minimum(index, len(config.grades) - 1)]
    letters[np.isnan(probability)] = None
    return letters


def score(model: TrainedModel, features_frame: pd.DataFrame, config: ModelConfig) -> pd.DataFrame:
    """P(roll forward within the horizon), risk grade and model version per account.

    Accounts outside the model's population (written off) get a null probability and grade: the
    model says nothing about them, and a made-up 0 would read as "grade A".

    Args:
        model: the champion (or any registered model).
        features_frame: account_features rows of one night.
        config: grade cut-offs.

    Returns:
        account_id, probability, risk_grade, model_version; one row per input row, same order.
    """
    scored = in_population(model, features_frame)
    probability = (model.predict(features_frame) if scored.any()
                   else np.full(len(features_frame), np.nan))
    probability[~scored] = np.nan
    return pd.DataFrame({
        "account_id": features_frame["account_id"].to_numpy(),
        "probability": probability,
        "risk_grade": risk_grades(probability, config),
        "model_version": model.version or "unregistered",
    }, columns=SCORE_COLUMNS)


def accounts_needing_reasons(features_frame: pd.DataFrame, scores: pd.DataFrame,
                             config: ModelConfig) -> list[str]:
    """Every overdue account and every early-warning candidate, in the model's population.

    Early-warning candidate: current (M0) with probability >= early_warning_probability. (The
    T0 tier also asks for a payment due within 7 days; that is the tier's filter, applied later,
    and account_features does not carry the due date.)
    """
    merged = features_frame[["account_id", "bucket", "days_past_due"]].merge(
        scores[["account_id", "probability"]], on="account_id", how="inner")
    scored = merged["probability"].notna()
    overdue = merged["days_past_due"].fillna(0) > 0
    early_warning = (merged["bucket"] == "M0") & (
        merged["probability"] >= config.early_warning_probability)
    return merged.loc[scored & (overdue | early_warning), "account_id"].tolist()


def contributions(model: TrainedModel, frame: pd.DataFrame, method: str = "exact") -> pd.DataFrame:
    """Per-row contribution of each source column to the log-odds (bias column dropped).

    One-hot and rank encodings are summed back to the account_features column they came from,
    so a reason speaks of `roll_state`, not of `roll_state_cured = 0`.
    """
    if method not in ("exact", "approximate"):
        raise ValueError(f"method must be 'exact' or 'approximate', got {method!r}")
    raw = model.booster.predict(model.matrix(frame), pred_contribs=True,
                                approx_contribs=method == "approximate")
    by_feature = pd.DataFrame(raw[:, :-1], columns=model.feature_names, index=frame.index)
    sources = {name: feature.source for name, feature in feature_by_name(model.feature_names).items()}
    return by_feature.T.groupby(pd.Series(sources), sort=False).sum().T


def reason_codes(model: TrainedModel, features_frame: pd.DataFrame,
                 accounts_needing: Iterable[str], top: int = 3, *,
                 method: str = "exact") -> pd.DataFrame:
    """The top features raising each needing account's risk, as phrases in zh-CN and en-US.

    Only contributions above zero are reasons (a feature that lowers the risk is not a reason to
    call), so an account can have fewer than `top` rows; nor is a feature whose look-back is
    partial on the night (the booster saw it missing).

    Args:
        model: the model whose probability is being explained.
        features_frame: account_features rows of one night.
        accounts_needing: account ids to explain (see accounts_needing_reasons).
        top: reasons per account.
        method: "exact" (TreeSHAP) or "approximate" (Saabas); see the module docstring.

    Returns:
        account_id, rank (1 = strongest), feature (the account_features column), contribution
        (log-odds), value (the account's value, as text), reason_zh, reason_en.
    """
    wanted = set(accounts_needing)
    mask = features_frame["account_id"].isin(wanted).to_numpy() & in_population(
        model, features_frame)
    frame = features_frame[mask]
    if frame.empty:
        return pd.DataFrame(columns=REASON_COLUMNS)
    by_source = contributions(model, frame, method)
    values = by_source.to_numpy(copy=True)
    sources = list(by_source.columns)
    # a partial look-back was missing to the booster: its value is no reason a collector can use
    for name, rows in partial_lookbacks(frame, model.feature_names, model.first_snapshot).items():
        values[rows, sources.index(feature_by_name([name])[name].source)] = 0.0
    order = np.argsort(-values, axis=1, kind="stable")[:, :top]
    chosen = np.take_along_axis(values, order, axis=1)
    sources = np.asarray(by_source.columns)
    columns = {name: frame[name].to_numpy(dtype=object) for name in frame.columns}
    account_ids = columns["account_id"]
    cache: dict = {}
    out = []
    for index, (picked, amounts) in enumerate(zip(order, chosen)):
        row = FrameRow(columns, index)
        rank = 0
        for column_index, amount in zip(picked, amounts):
            if amount <= 0:
                continue
            rank += 1
            source = str(sources[column_index])
            value = columns[source][index]
            reason_zh, reason_en = render_reasons(source, value, row, cache)
            out.append({
                "account_id": account_ids[index], "rank": rank, "feature": source,
                "contribution": float(amount),
                "value": value_text(value) or None,
                "reason_zh": reason_zh,
                "reason_en": reason_en,
            })
    return pd.DataFrame(out, columns=REASON_COLUMNS)
