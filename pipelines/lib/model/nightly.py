"""The model stage's warehouse side: scores, reason codes and monitoring rows, night by night.

Plain Python over a DuckDB connection around `models/` (which takes frames and returns values);
the Dagster assets in `defs/model` are thin shells. Every write replaces whole nights in one
transaction, so a rerun of a night leaves the tables as they were.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from models.buckets import BUCKETS
from models.config import ModelConfig
from models.monitoring import monitor
from models.registry import (
    bucket_auc_allowance,
    bucket_auc_not_judged,
    bucket_calibration_allowance,
)
from models.scoring import REASON_COLUMNS, reason_codes, score
from models.trained import TrainedModel
from pipelines import settings
from pipelines.lib.model.dataset import latest_matured_window
from pipelines.lib.model.psi_tonight import tonight_stability
from pipelines.lib.sql import render_sql
from pipelines.lib.warehouse import replace_nights, run_sql

MODEL_TABLES = ("account_scores", "account_reason_codes", "model_monitoring")
SCORE_TABLE_COLUMNS = ["snapshot_date", "account_id", "bucket", "days_past_due", "probability",
                       "risk_grade", "early_warning", "needs_reasons", "model_version"]


def ensure_model_tables(conn: duckdb.DuckDBPyConnection) -> None:
    for table in MODEL_TABLES:
        conn.execute(render_sql(f"model/create_{table}"))


def score_frame(model: TrainedModel, features: pd.DataFrame, config: ModelConfig,
                night: date) -> pd.DataFrame:
    """account_scores rows for one night's account_features rows."""
    scores = score(model, features, config)
    probability = scores["probability"].to_numpy()
    scored = ~np.isnan(probability)
    current = (features["bucket"] == "M0").to_numpy()
    overdue = (features["days_past_due"].fillna(0) > 0).to_numpy()
    with np.errstate(invalid="ignore"):
        early_warning = current & scored & (probability >= config.early_warning_probability)
    return pd.DataFrame({
        "snapshot_date": pd.Timestamp(night).date(),
        "account_id": features["account_id"].to_numpy(),
        "bucket": features["bucket"].to_numpy(),
        "days_past_due": features["days_past_due"].to_numpy(),
        "probability": probability,
        "risk_grade": scores["risk_grade"].to_numpy(),
        "early_warning": early_warning,
        "needs_reasons": scored & (overdue | early_warning),
        "model_version": scores["model_version"].to_numpy(),
    }, columns=SCORE_TABLE_COLUMNS)


@dataclass
class ScoringRun:
    """What a scoring run did, for the asset's metadata (counts only, no account ids)."""

    nights: int = 0
    rows: int = 0
    scored: int = 0
    early_warning: int = 0
    needing_reasons: int = 0
    reason_rows: int = 0
    reason_accounts: int = 0
    reason_nights: list[str] = field(default_factory=list)
    grade_counts: dict[str, int] = field(default_factory=dict)
    mean_probability: float | None = None
    seconds_scoring: float = 0.0
    seconds_reasons: float = 0.0
    top_reasons: pd.DataFrame | None = None


def feature_chunks(conn: duckdb.DuckDBPyConnection, night: date,
                   rows: int) -> Iterator[pd.DataFrame]:
    """One night's account_features rows in account order, about `rows` at a time (whole
    DuckDB vectors). The connection is busy until the last chunk is read."""
    run_sql(conn, "model/features_for_night", {"night": night})
    vectors = max(1, -(-rows // duckdb.__standard_vector_size__))
    chunk = conn.fetch_df_chunk(vectors)
    yield chunk  # even when empty: it carries the columns and their types
    while len(chunk):
        chunk = conn.fetch_df_chunk(vectors)
        if len(chunk):
            yield chunk


def score_nights(conn: duckdb.DuckDBPyConnection, model: TrainedModel, config: ModelConfig,
                 nights: list[date], reason_nights: set[date],
                 chunk_rows: int | None = None) -> ScoringRun:
    """Score every account of `nights`; compute reason codes for the nights in `reason_nights`.

    Each night is replaced on its own (scores and, when computed, its reason codes), so a long
    backfill never holds millions of rows in memory at once; within a night the features are
    read `chunk_rows` at a time and only the scores and reasons are kept.
    """
    ensure_model_tables(conn)
    chunk_rows = chunk_rows or settings.scoring_chunk_rows()
    run = ScoringRun()
    last_scores = None
    for night in nights:
        explain = night in reason_nights
        scored_chunks, reason_chunks = [], []
        seconds_reasons = 0.0
        started = time.perf_counter()
        for features in feature_chunks(conn, night, chunk_rows):
            scores = score_frame(model, features, config, night)
            scored_chunks.append(scores)
            if explain:
                reasons_started = time.perf_counter()
                needing = scores.loc[scores["needs_reasons"], "account_id"].tolist()
                reason_chunks.append(reason_codes(model, features, needing,
                                                  method=config.reason_code_method))
                seconds_reasons += time.perf_counter() - reasons_started
            del features
        scores = pd.concat(scored_chunks, ignore_index=True)
        replace_nights(conn, "account_scores", night, night, scores)
        run.seconds_scoring += time.perf_counter() - started - seconds_reasons
        run.nights += 1
        run.rows += len(scores)
        if explain:
            started = time.perf_counter()
            reasons = pd.concat([r for r in reason_chunks if len(r)] or reason_chunks[:1],
                                ignore_index=True)
            reasons.insert(0, "snapshot_date", pd.Timestamp(night).date())
            reasons["model_version"] = model.version or "unregistered"
            replace_nights(conn, "account_reason_codes", night, night,
                           reasons[["snapshot_date", *REASON_COLUMNS, "model_version"]])
            run.seconds_reasons += seconds_reasons + time.perf_counter() - started
            run.reason_nights.append(night.isoformat())
            run.reason_rows += len(reasons)
            run.reason_accounts += int(reasons["account_id"].nunique()) if len(reasons) else 0
            run.top_reasons = (reasons.groupby(["rank", "feature", ], as_index=False)
                               .size().sort_values(["rank", "size"], ascending=[True, False])
                               if len(reasons) else None)
        last_scores = scores
    if last_scores is not None:
        scored = last_scores["probability"].notna()
        run.scored = int(scored.sum())
        run.early_warning = int(last_scores["early_warning"].sum())
        run.needing_reasons = int(last_scores["needs_reasons"].sum())
        run.grade_counts = {str(k): int(v) for k, v in
                            last_scores["risk_grade"].value_counts().sort_index().items()}
        run.mean_probability = (float(last_scores.loc[scored, "probability"].mean())
                                if scored.any() else None)
    return run


def bucket_auc_status(bucket: dict, card_auc: float | None, config: ModelConfig) -> str | None:
    """ok, or alert when a bucket's AUC fell by more than the gate's bucket allowance below the
    card's validation AUC for that bucket; None when not judged (too few rows, positives or
    negatives, as the gate's rule says, or no AUC on the card for that bucket)."""
    if (bucket_auc_not_judged(bucket, config) is not None or card_auc is None
            or np.isnan(card_auc)):
        return None
    allowance = bucket_auc_allowance(card_auc, bucket, config)
    return "alert" if bucket["auc"] < card_auc - allowance else "ok"


def monitoring_rows(report: dict, night: date, model: TrainedModel, card: dict,
                    config: ModelConfig) -> pd.DataFrame:
    """model_monitoring rows for one night's monitoring report (models.monitoring.monitor)."""
    version = model.version or "unregistered"
    rows = []

    def add(measure, subject, value, status=None, window=None):
        value = None if value is None or np.isnan(float(value)) else float(value)
        rows.append({"snapshot_date": night, "model_version": version, "measure": measure,
                     "subject": subject, "value": value, "status": status,
                     "window_first_night": (window or {}).get("first_night"),
                     "window_last_night": (window or {}).get("last_night")})

    stability = report["stability"]
    add("psi", "score", stability["score"]["psi"], stability["score"]["status"])
    for row in stability["features"]:
        add("psi", row["feature"], row["psi"], row["status"])
    performance = report["performance"]
    if performance:
        window = performance["window"]
        reference_auc = card["metrics"]["validation"]["auc"]
        auc_status = "alert" if performance["auc"] < reference_auc - config.auc_margin else "ok"
        add("auc", "matured", performance["auc"], auc_status, window)
        for measure in ("gini", "ks", "brier", "observed_rate", "mean_predicted"):
            add(measure, "matured", performance[measure], None, window)
        add("rows", "matured", window["rows"], None, window)
        add("positives", "matured", window.get("positives"), None, window)
        card_bucket_auc = {row["bucket"]: row.get("auc") for row in
                           card["metrics"]["validation"]["calibration_by_bucket"]}
        for bucket in report["roll_rate_by_bucket"] or []:
            status = None
            if bucket["rows"] >= config.calibration_min_rows:
                allowance = bucket_calibration_allowance(bucket["mean_predicted"],
                                                         bucket["rows"], config)
                status = "ok" if abs(bucket["difference"]) <= allowance else "alert"
            add("mean_predicted", bucket["bucket"], bucket["mean_predicted"], status, window)
            add("observed_rate", bucket["bucket"], bucket["observed_rate"], status, window)
            add("rows", bucket["bucket"], bucket["rows"], None, window)
            add("positives", bucket["bucket"], bucket.get("positives"), None, window)
            add("negatives", bucket["bucket"], bucket.get("negatives"), None, window)
            for measure in ("accounts", "positive_accounts", "negative_accounts"):
                if measure in bucket:
                    add(measure, bucket["bucket"], bucket[measure], None, window)
            add("auc_in_bucket", bucket["bucket"], bucket.get("auc"),
                bucket_auc_status(bucket, card_bucket_auc.get(bucket["bucket"]), config), window)
            add("ks_in_bucket", bucket["bucket"], bucket.get("ks"), None, window)
    frame = pd.DataFrame(rows)
    for column in ("snapshot_date", "window_first_night", "window_last_night"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def auc_statuses(rows: pd.DataFrame) -> dict[str, str | None]:
    """{"matured" or bucket: ok | alert | None}: the AUC verdicts of a night's monitoring rows."""
    judged = rows[rows["measure"].isin(["auc", "auc_in_bucket"])]
    return {subject: (None if pd.isna(status) else status)
            for subject, status in zip(judged["subject"], judged["status"])}


def _figure(value, digits: int = 4) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    return f"{value:.{digits}f}" if digits else f"{value:,.0f}"


def bucket_markdown(rows: pd.DataFrame) -> str:
    """The night's performance per bucket beside the whole window's ("all"), as a Markdown
    table for the asset's metadata: rows and positives, AUC (with its status against the card)
    and KS inside the bucket, predicted vs observed roll rate (with its calibration status).
    Counts and rates only."""
    performance = rows[rows["measure"] != "psi"]
    value = performance.pivot_table(index="subject", columns="measure", values="value",
                                    aggfunc="first")
    status = performance.dropna(subset=["status"]).pivot_table(
        index="subject", columns="measure", values="status", aggfunc="first")
    lines = [("| bucket | rows | positives | AUC | AUC status | KS | mean predicted | observed | "
              "calibration |"), "|---|---|---|---|---|---|---|---|---|"]
    for subject in ["matured", *BUCKETS]:
        if subject not in value.index:
            continue
        figures = value.loc[subject]
        states = (status.loc[subject].dropna() if subject in status.index
                  else pd.Series(dtype=object))
        auc_key, ks_key = (("auc", "ks") if subject == "matured"
                           else ("auc_in_bucket", "ks_in_bucket"))
        lines.append(
            f"| {'all' if subject == 'matured' else subject} | "
            f"{_figure(figures.get('rows'), 0)} | {_figure(figures.get('positives'), 0)} | "
            f"{_figure(figures.get(auc_key))} | {states.get(auc_key) or 'not judged'} | "
            f"{_figure(figures.get(ks_key))} | {_figure(figures.get('mean_predicted'))} | "
            f"{_figure(figures.get('observed_rate'))} | "
            f"{'' if subject == 'matured' else states.get('mean_predicted') or 'not judged'} |")
    return "\n".join(lines)


def monitor_night(conn: duckdb.DuckDBPyConnection, model: TrainedModel, card: dict,
                  config: ModelConfig, night: date) -> tuple[dict, pd.DataFrame]:
    """Monitor the champion on `night`: PSI vs its training window, performance on the latest
    matured window after its validation window (never trained or stopped on). Writes and
    returns the night's model_monitoring rows."""
    ensure_model_tables(conn)
    after = model.validation_window.get("last_night")
    matured = latest_matured_window(conn, night, config,
                                    after=date.fromisoformat(after) if after else None)
    counted = tonight_stability(conn, model, night)
    tonight = (None if counted is not None
               else feature_chunks(conn, night, settings.scoring_chunk_rows()))
    report = monitor(model, tonight, matured if len(matured) else None,
                     tonight_stability=counted)
    rows = monitoring_rows(report, night, model, card, config)
    replace_nights(conn, "model_monitoring", night, night, rows)
    return report, rows
