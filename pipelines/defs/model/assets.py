"""The delinquency model, nightly: retrain and gate, score every open account, monitor.

Thin shells around `models/` (training, evaluation, registry) and `pipelines/lib/model/` (the
warehouse side: labels, retrain, scores, monitoring). A backfill range is one run: the model is
retrained as of its last night, every night is scored, and reason codes and monitoring are
computed for the last night only (they exist for tonight's letters and tonight's alerts).
"""


import math
import time
import traceback
from datetime import date
from typing import TYPE_CHECKING

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines import settings
from pipelines.defs.checks import sql_check_result
from pipelines.defs.metadata import (
    flag_run,
    nights_on_checks,
    nights_text,
    record_nights,
    rows_by_night,
    run_range,
    table_metadata,
)
from pipelines.defs.partitions import WAREHOUSE_POOL, partition_nights
from pipelines.defs.resources import ModelRegistryResource
from pipelines.lib.warehouse import run_sql

if TYPE_CHECKING:
    from models.registry import ModelRegistry
    from pipelines.lib.model.degraded import Degraded

GATE_CHECK = "champion_challenger_gate"
SCORE_CHECKS = (
    ("assert_scores_match_features",
     ("Every account of a scored night has exactly one score; written-off accounts none; "
     "grades, early-warning and needs-reasons flags follow from the probability and bucket."),
     "account_scores"),
    ("assert_reason_codes_for_needing_accounts",
     ("Reason codes only for overdue and early-warning accounts, ranked 1-3 without gaps, each "
     "raising the risk, in both languages, from the model that scored the account."),
     "account_reason_codes"),
)
MONITORING_CHECKS = (
    ("score_psi", "PSI of tonight's score distribution vs the training window <= 0.25."),
    ("feature_psi", "PSI of every model feature vs the training window <= 0.25."),
    ("auc_on_matured_labels",
     ("AUC on the monitoring window (matured nights after the champion's validation window), "
     "overall and in each bucket with enough rows of both classes, has not fallen by more than "
     "the gate's margin (overall: auc_margin; in a bucket: bucket_auc_margin) below the model "
     "card's validation AUC.")),
    ("roll_rate_by_bucket",
     ("Mean predicted vs observed roll-forward rate per bucket, on the monitoring window, "
     "within the gate's calibration allowance.")),
)


def _metrics_metadata(prefix: str, metrics: dict | None) -> dict:
    if not metrics:
        return {}
    return {f"{prefix}{key}": dg.MetadataValue.float(float(metrics[key]))
            for key in ("auc", "gini", "ks", "brier") if metrics.get(key) is not None}


def _degraded_metadata(registry: "ModelRegistry", cause: "Degraded") -> dict:
    """What account_scores reads to name tonight's degraded mode, when no champion is left."""
    if registry.champion():
        return {"degraded": False}
    return {"degraded": True, "degraded_cause": cause.cause, "degraded_detail": cause.detail}


def _failure_log(error: BaseException) -> str:
    """Where it failed (the frames, which hold code, never data) without the message."""
    return "".join(traceback.format_tb(error.__traceback__)[-6:])


def _champion_metadata(registry: "ModelRegistry") -> dict:
    champion = registry.champion()
    if not champion:
        return {"champion": "none yet"}
    card = registry.card(champion)
    return {"champion": champion, "champion_as_of": card["data_window"]["as_of"],
            **_metrics_metadata("champion_", card["metrics"]["validation"]),
            "champion_card": dg.MetadataValue.path(
                str(registry.root / champion / "card.md"))}


@dg.asset(
    group_name="model",
    kinds={"xgboost", "python"},
    deps=["account_features", "account_snapshots"],
    pool=WAREHOUSE_POOL,
    description="Retrains the roll-forward model (XGBoost, monotone, out-of-time early stopping) "
    "on matured labels as of the night, when the retrain cadence says so; registers it as a "
    "challenger under $OVERDUE_HOME/registry and promotes it only if the gate passes. A retrain "
    "that raises is a failed WARN gate check, never a failed run: the champion keeps scoring, or "
    "with none the night runs in degraded mode (`degraded`, `degraded_cause`). "
    "Metadata: the challenger's model card figures and the champion's.",
    check_specs=[dg.AssetCheckSpec(
        GATE_CHECK, asset="delinquency_model", blocking=True,
        description="The challenger is promoted only if its AUC on the validation window "
        "(out of time, before the held-out monitoring window) is not worse than the champion's "
        "by more than the margin and its calibration holds overall and per bucket. A rejected "
        "challenger warns and stays a challenger: the champion keeps scoring, or with no champion "
        "at all the night runs in degraded mode on the delinquency bucket alone. A retrain that "
        "raised warns the same way. `overdue model promote|rollback` overrules it, recorded in "
        "the registry.")],
)
@nights_on_checks
def delinquency_model(context: dg.AssetExecutionContext, duckdb: DuckDBResource,
                      model_registry: ModelRegistryResource):
    from models.dataset import NotEnoughData
    from models.registry import card_markdown
    from models.retrain import retrain_due
    from pipelines.lib.model.degraded import Degraded, failure_detail, short
    from pipelines.lib.model.retrain import retrain_night

    nights = partition_nights(context)
    as_of = nights[-1]
    config = settings.model_config()
    registry = model_registry.registry()
    if not retrain_due(registry, as_of, config):
        yield dg.MaterializeResult(metadata={
            "status": f"no retrain: the newest model's data is from {registry.latest_as_of()}, "
                      f"retrain every {config.retrain_every_days} day(s)",
            **_champion_metadata(registry)})
        yield dg.AssetCheckResult(check_name=GATE_CHECK, passed=True,
                                  metadata={"challenger": "none tonight (not a retrain night)"})
        return
    started = time.perf_counter()
    try:
        with duckdb.get_connection() as conn:
            result = retrain_night(conn, as_of, registry, config,
                                   by=f"dagster run {context.run.run_id}")
    except NotEnoughData as reason:
        context.log.info("no retrain as of %s: %s", as_of, reason)
        yield dg.MaterializeResult(metadata={
            "status": f"not enough matured data: {reason}",
            **_degraded_metadata(registry, Degraded("not_enough_data", short(str(reason)))),
            **_champion_metadata(registry)})
        yield dg.AssetCheckResult(check_name=GATE_CHECK, passed=True,
                                  metadata={"challenger": f"none tonight: {reason}"})
        return
    except Exception as error:  # noqa: BLE001 - a model failure never stops collections
        detail = failure_detail(error)
        champion = registry.champion()
        outcome = (f"the champion {champion} keeps scoring" if champion
                   else "no champion: tonight runs in degraded mode")
        context.log.warning(f"retrain as of {as_of} failed: {detail}; {outcome}\n"
                            + _failure_log(error))
        yield dg.MaterializeResult(metadata={
            "status": f"retrain failed: {detail}; {outcome}",
            **_degraded_metadata(registry, Degraded("retrain_failed", detail)),
            **_champion_metadata(registry)})
        yield dg.AssetCheckResult(
            check_name=GATE_CHECK, passed=False, severity=dg.AssetCheckSeverity.WARN,
            metadata={"challenger": f"none tonight: the retrain failed: {detail}",
                      "champion_after": champion or "none"})
        return
    seconds = time.perf_counter() - started
    card = registry.card(result.version)
    champion_after = registry.champion()
    refused = Degraded("first_model_refused", f"{result.version} refused by the gate")
    record_nights(context, nights, {as_of: {
        "status": ("reused the identical model already registered" if result.reused
                   else "retrained") + ("; promoted" if result.decision.promote
                                        else "; kept as challenger")
        + ("" if champion_after else "; no champion: tonight runs in degraded mode"),
        "challenger": result.version,
        "as_of": as_of.isoformat(),
        **_metrics_metadata("", result.metrics),
        "training_rows": card["rows"]["training"],
        "validation_rows": card["rows"]["validation"],
        "validation_window": f"{card['data_window']['validation']['first_night']} .. "
                             f"{card['data_window']['validation']['last_night']}",
        "trees": card["parameters"]["trees"],
        "score_psi_validation": dg.MetadataValue.float(float(card["psi"]["score"]["psi"])),
        "seconds": dg.MetadataValue.float(round(seconds, 2)),
        **_champion_metadata(registry),
        "model_card": dg.MetadataValue.md(card_markdown(card)),
        "card_path": dg.MetadataValue.path(str(registry.root / result.version / "card.md")),
    }}, default={"status": f"no retrain on this night: the run retrained as of {as_of}",
                 **_champion_metadata(registry)})
    yield dg.MaterializeResult(metadata={**run_range(nights),
                                         **_degraded_metadata(registry, refused)})
    yield dg.AssetCheckResult(
        check_name=GATE_CHECK,
        passed=result.decision.promote,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "challenger": result.version,
            "champion_before": result.champion_before or "none",
            "champion_after": champion_after or "none",
            **_metrics_metadata("challenger_", result.metrics),
            **_metrics_metadata("champion_same_window_", result.champion_metrics),
            "reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in result.decision.reasons)),
        },
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "account_scores", group_name="model", kinds={"xgboost", "duckdb"},
            deps=["delinquency_model", "account_features"],
            description="Table `account_scores`: every account of the night: probability of "
            "rolling forward within the horizon, risk grade A-E, early-warning flag, model "
            "version; written-off accounts unscored. A backfill scores every night with the "
            "champion."),
        dg.AssetSpec(
            "account_reason_codes", group_name="model", kinds={"xgboost", "duckdb"},
            deps=["delinquency_model", "account_features"],
            description="Table `account_reason_codes`: the top three risk-raising features "
            "(exact TreeSHAP) as zh-CN and en-US phrases, for every overdue and early-warning "
            "account; written with the scores, in the same step. A backfill explains its last "
            "night only."),
    ],
    pool=WAREHOUSE_POOL,
    check_specs=[dg.AssetCheckSpec(name, asset=asset, blocking=True, description=text)
                 for name, text, asset in SCORE_CHECKS],
)
@nights_on_checks
def account_scores(context: dg.AssetExecutionContext, duckdb: DuckDBResource,
                   model_registry: ModelRegistryResource):
    from pipelines.lib.exchange import publish
    from pipelines.lib.model import degraded as degraded_mode
    from pipelines.lib.model.degraded import Degraded, failure_detail
    from pipelines.lib.model.nightly import score_nights

    nights = partition_nights(context)
    config = settings.model_config()
    registry = model_registry.registry()
    champion = registry.champion()
    degraded = None if champion else _no_champion(context, registry)
    with duckdb.get_connection() as conn:
        if degraded is None:
            try:
                run = score_nights(conn, registry.load(champion), config, nights,
                                   reason_nights={nights[-1]})
            except Exception as error:  # noqa: BLE001 - the night goes on without scores
                degraded = Degraded("scoring_failed", failure_detail(error))
                context.log.warning(f"scoring with {champion} failed: {degraded.detail}\n"
                                    + _failure_log(error))
        if degraded is not None:
            degraded_mode.clear_scores(conn, nights[0], nights[-1])
            degraded_mode.record(conn, nights, degraded)
            for table in ("account_scores", "account_reason_codes", "scoring_status"):
                publish(conn, duckdb.shard, table, nights)
            yield from _degraded_results(context, nights, degraded)
            return
        degraded_mode.record(conn, nights, None, champion)
        for table in ("account_scores", "account_reason_codes", "scoring_status"):
            publish(conn, duckdb.shard, table, nights)
        checks = [sql_check_result(conn, name, name, {"start_date": nights[0],
                                                       "end_date": nights[-1]}, asset_key=asset)
                  for name, _, asset in SCORE_CHECKS]
        per_night = _scores_by_night(conn, nights)
        reasons = rows_by_night(conn, "account_reason_codes", nights)
        tables = {key: table_metadata(conn, key, f"model/create_{key}")
                  for key in ("account_scores", "account_reason_codes")}
    reasons_per_second = (run.reason_accounts / run.seconds_reasons
                          if run.seconds_reasons else None)
    per_night.setdefault(nights[-1], {})["risk_grades"] = dg.MetadataValue.md(
        "| grade | accounts |\n|---|---|\n"
        + "\n".join(f"| {grade} | {count:,} |" for grade, count in run.grade_counts.items()))
    record_nights(context, nights, per_night, asset_key="account_scores",
                  default={"dagster/row_count": 0, "status": "no scores for this night"})
    yield dg.MaterializeResult(asset_key="account_scores", metadata={
        **run_range(nights),
        "degraded": False,
        **({"run_rows": run.rows} if len(nights) > 1 else {}),
        "scoring_rows_per_second": dg.MetadataValue.float(
            round(run.rows / run.seconds_scoring, 1) if run.seconds_scoring else 0.0),
        **tables["account_scores"],
    })
    reasons[nights[-1]] |= {
        "accounts_explained": run.reason_accounts,
        "reason_accounts_per_second": dg.MetadataValue.float(round(reasons_per_second or 0.0, 1)),
        "top_reasons": dg.MetadataValue.md(
            run.top_reasons.head(12).to_markdown(index=False)
            if run.top_reasons is not None else "none")}
    for night in nights[:-1]:
        reasons[night]["status"] = f"not explained: the run explained its last night, {nights[-1]}"
    record_nights(context, nights, reasons, asset_key="account_reason_codes")
    yield dg.MaterializeResult(asset_key="account_reason_codes", metadata={
        **run_range(nights), "reason_nights": nights[-1].isoformat(),
        **tables["account_reason_codes"]})
    yield from checks


def _no_champion(context: dg.AssetExecutionContext, registry: "ModelRegistry") -> "Degraded":
    """Why there is no champion: as this run's delinquency_model said (on a split book, the
    night-level run's of the same night, which ran before every shard's scoring), else from the
    registry."""
    from pipelines.lib.model.degraded import Degraded

    event = context.instance.get_latest_materialization_event(dg.AssetKey("delinquency_model"))
    shard_run = isinstance(context.assets_def.partitions_def, dg.MultiPartitionsDefinition)
    if event is not None and (event.run_id == context.run.run_id or (
            shard_run and event.asset_materialization.partition
            == partition_nights(context)[-1].isoformat())):
        metadata = event.asset_materialization.metadata
        if "degraded_cause" in metadata:
            detail = metadata.get("degraded_detail")
            return Degraded(metadata["degraded_cause"].value, detail.value if detail else "")
    refused = [card["version"] for card in registry.list() if card.get("status") != "champion"]
    if refused:
        return Degraded("first_model_refused", f"{refused[-1]} refused by the gate")
    return Degraded("no_champion")


def _degraded_results(context: dg.AssetExecutionContext, nights: list[date],
                      degraded: "Degraded"):
    """No scores for the run's nights: declared on both assets and on the run, checks pass
    with a note (nothing to judge)."""
    from pipelines.lib.model import degraded as degraded_mode

    text = degraded.text()
    flag_run(context, degraded_mode.RUN_TAG, text)
    status = (f"degraded mode: {text}; tiers on the delinquency bucket alone, high-risk and "
              "early-warning treatments not applied")
    context.log.warning(f"{nights_text(nights)}: {status}")
    for key in ("account_scores", "account_reason_codes"):
        yield dg.MaterializeResult(asset_key=key, metadata={
            **run_range(nights), "status": status, "degraded": True,
            "degraded_cause": degraded.cause, "dagster/row_count": 0})
    for name, _, asset in SCORE_CHECKS:
        yield dg.AssetCheckResult(check_name=name, asset_key=asset, passed=True,
                                  metadata={"judged": f"nothing scored ({text})"})


def _scores_by_night(conn, nights: list[date]) -> dict[date, dict]:
    """Each scored night's own counts and mean probability, for its partition."""
    rows = run_sql(conn, "metadata/scores_by_night",
                   {"start_date": nights[0], "end_date": nights[-1]}).fetchall()
    return {night: {
        "dagster/row_count": count,
        "model_version": version,
        "scored": scored,
        "early_warning": early_warning,
        "needing_reasons": needing,
        "mean_probability": dg.MetadataValue.float(float(mean or 0.0)),
    } for night, count, scored, early_warning, needing, mean, version in rows}


@dg.asset(
    group_name="model",
    kinds={"python", "duckdb"},
    deps=["account_scores"],
    pool=WAREHOUSE_POOL,
    description="Table `model_monitoring`: the champion's PSI (score and every feature) tonight vs "
    "its training window (no_data where a side has no value); AUC, Gini, KS, Brier, predicted vs "
    "observed roll rate, rows, positives, AUC and KS per bucket on the monitoring window: matured "
    "nights after the "
    "champion's validation window, never trained or stopped on. The night's page: "
    "$OVERDUE_HOME/out/monitoring/<night>/monitoring.html. Warnings as checks. Monitors the last "
    "night of a range, and only a night at or after the champion's data date (earlier would be "
    "in-sample).",
    check_specs=[dg.AssetCheckSpec(name, asset="model_monitoring", description=text)
                 for name, text in MONITORING_CHECKS],
)
@nights_on_checks
def model_monitoring(context: dg.AssetExecutionContext, duckdb: DuckDBResource,
                     model_registry: ModelRegistryResource):
    from models.psi import NO_DATA
    from pipelines.lib.model import degraded as degraded_mode
    from pipelines.lib.model.degraded import failure_detail
    from pipelines.lib.model.monitoring_page import write_page
    from pipelines.lib.model.nightly import auc_statuses, bucket_markdown, monitor_night

    nights = partition_nights(context)
    night = nights[-1]
    config = settings.model_config()
    registry = model_registry.registry()
    champion = registry.champion()
    card = registry.card(champion) if champion else None
    with duckdb.get_connection() as conn:
        degraded = degraded_mode.night_status(conn, night)
    if degraded or champion is None or date.fromisoformat(card["data_window"]["as_of"]) > night:
        why = (f"nothing to monitor: scores unavailable tonight ({degraded.text()})" if degraded
               else "no champion yet" if champion is None
               else f"champion {champion} was trained on data up to {card['data_window']['as_of']}"
                    f", after {night}")
        yield dg.MaterializeResult(metadata={"status": f"not monitored: {why}"})
        for name, _ in MONITORING_CHECKS:
            yield dg.AssetCheckResult(check_name=name, passed=True, metadata={"judged": why})
        return
    try:
        with duckdb.get_connection() as conn:
            report, rows = monitor_night(conn, registry.load(champion), card, config, night)
        page = write_page(report, night, card, auc_statuses(rows))
    except Exception as error:  # noqa: BLE001 - monitoring failing warns, the night goes on
        detail = failure_detail(error)
        context.log.warning(f"monitoring {night} failed: {detail}\n" + _failure_log(error))
        yield dg.MaterializeResult(metadata={"status": f"monitoring failed: {detail}",
                                             "model_version": champion})
        for name, _ in MONITORING_CHECKS:
            yield dg.AssetCheckResult(check_name=name, passed=False,
                                      severity=dg.AssetCheckSeverity.WARN,
                                      metadata={"judged": f"not judged: monitoring failed: {detail}"})
        return
    stability, performance = report["stability"], report["performance"]
    features = stability["features"]
    measured = [r for r in features if r["status"] != NO_DATA]
    worst = measured[0] if measured else None
    no_data = [r for r in features if r["status"] == NO_DATA]
    buckets = rows[(rows["measure"] == "mean_predicted") & (rows["subject"] != "matured")]
    bucket_auc = rows[(rows["measure"] == "auc_in_bucket")].set_index("subject")
    bucket_table = bucket_markdown(rows)
    metadata = {
        "model_version": champion,
        "score_psi": dg.MetadataValue.float(float(stability["score"]["psi"])),
        "max_feature_psi": dg.MetadataValue.float(float(worst["psi"]) if worst else 0.0),
        "psi": dg.MetadataValue.md("| feature | PSI | status |\n|---|---|---|\n" + "\n".join(
            f"| {r['feature']} | {_psi_text(r['psi'])} | {r['status']} |"
            for r in measured[:15] + no_data)),
        "psi_no_data": dg.MetadataValue.md("\n".join(
            f"- {r['feature']}: {r['why']}" for r in no_data) or "none"),
        "alerts": dg.MetadataValue.md("\n".join(f"- {a}" for a in report["alerts"]) or "none"),
        "monitoring_page": dg.MetadataValue.path(str(page)),
    }
    if performance:
        metadata.update(_metrics_metadata("matured_", performance))
        metadata["matured_window"] = (f"{performance['window']['first_night']} .. "
                                      f"{performance['window']['last_night']} "
                                      f"({performance['window']['rows']:,} rows)")
        metadata["roll_rate_by_bucket"] = dg.MetadataValue.md(bucket_table)
    else:
        metadata["matured_window"] = ("none yet: no matured night after the champion's "
                                      "validation window")
    record_nights(context, nights, {night: metadata},
                  default={"status": f"not monitored: the run monitored its last night, {night}"})
    yield dg.MaterializeResult(metadata=run_range(nights))

    acting = [r for r in features if r["status"] == "act"]
    yield dg.AssetCheckResult(
        check_name="score_psi", passed=stability["score"]["status"] != "act",
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"psi": float(stability["score"]["psi"]), "status": stability["score"]["status"]})
    yield dg.AssetCheckResult(
        check_name="feature_psi", passed=not acting, severity=dg.AssetCheckSeverity.WARN,
        metadata={"features_over_0_25": ", ".join(r["feature"] for r in acting) or "none",
                  "max_psi": float(worst["psi"]) if worst else 0.0})
    if performance is None:
        for name in ("auc_on_matured_labels", "roll_rate_by_bucket"):
            yield dg.AssetCheckResult(check_name=name, passed=True, metadata={
                "judged": "no matured night after the champion's validation window yet"})
        return
    reference_auc = card["metrics"]["validation"]["auc"]
    fell_in = bucket_auc[bucket_auc["status"] == "alert"].index.tolist()
    yield dg.AssetCheckResult(
        check_name="auc_on_matured_labels",
        passed=performance["auc"] >= reference_auc - config.auc_margin and not fell_in,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"auc": float(performance["auc"]), "card_auc": float(reference_auc),
                  "margin": config.auc_margin, "bucket_margin": config.bucket_auc_margin,
                  "buckets_auc_fell": ", ".join(fell_in) or "none",
                  "table": dg.MetadataValue.md(bucket_table)})
    off = buckets[buckets["status"] == "alert"]["subject"].tolist()
    yield dg.AssetCheckResult(
        check_name="roll_rate_by_bucket", passed=not off, severity=dg.AssetCheckSeverity.WARN,
        metadata={"buckets_off": ", ".join(off) or "none",
                  "table": dg.MetadataValue.md(bucket_table)})


def _psi_text(value) -> str:
    """A PSI or AUC to four places; "no data" for none (never a 0 that reads "stable")."""
    return "no data" if value is None or math.isnan(value) else f"{value:.4f}"


@dg.definitions
def model_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[delinquency_model, account_scores, model_monitoring])
