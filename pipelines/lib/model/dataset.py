"""The training set's warehouse side: matured nights, labelled rows and a night's features.

Why in SQL: the label is where an account's bucket went `horizon_months` later, a join of
account_features with account_snapshots over every observation night; DuckDB does it on the
warehouse's own rows, and only the labelled sample reaches Python. What a matured night, an
observation night and an out-of-time window are is decided in `models/dataset.py`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, date, datetime, timedelta

import duckdb
import pandas as pd

from models.config import ModelConfig
from models.dataset import (
    NotEnoughData,
    chosen_nights,
    current_night_weight,
    observation_nights,
)
from pipelines import settings
from pipelines.lib.exchange import book_table
from pipelines.lib.sql import render_sql
from pipelines.lib.warehouse import load_macros, own_transaction, query, run_sql

log = logging.getLogger(__name__)

# The longest month is 31 days; the label may also be read up to 3 days early.
_DAYS_PER_MONTH = 31


def load_model_macros(conn: duckdb.DuckDBPyConnection) -> None:
    """The domain macros (bucket, rank) and the model's own months_later."""
    load_macros(conn)
    load_macros(conn, "model/macros")


def _as_date(value) -> date:
    return pd.Timestamp(value).date()


def first_snapshot_night(conn: duckdb.DuckDBPyConnection) -> date | None:
    """The book's first snapshot night: no feature can look back before it."""
    value = query(conn, "model/first_snapshot_night", {})["first_night"].iloc[0]
    return None if pd.isna(value) else _as_date(value)


def matured_nights(conn: duckdb.DuckDBPyConnection, as_of: date, config: ModelConfig,
                   earliest: date) -> list[date]:
    """The account_features nights in [earliest, as_of] whose label has matured by `as_of`."""
    load_model_macros(conn)
    frame = query(conn, "model/matured_nights", {
        "as_of": as_of, "earliest": earliest, "horizon_months": config.horizon_months})
    return [_as_date(night) for night in frame["night"]]


def called_macros(text: str) -> dict[str, str]:
    """{name: definition} of the sql/ macros `text` calls, and those they call."""
    macros = {path.stem: path.read_text() for folder in ("shared/macros", "model/macros")
              for path in sorted((settings.SQL_DIR / folder).glob("*.sql"))}
    called: dict[str, str] = {}
    reading = [text]
    while reading:
        body = reading.pop()
        for name, definition in macros.items():
            if name not in called and re.search(rf"\b{name}\s*\(", body):
                called[name] = definition
                reading.append(definition)
    return called


def label_definition() -> str:
    """sha256 of the label pass and of the macros it calls: kept labels built under another
    rule are computed again, while a change to a macro the pass does not call keeps them."""
    text = render_sql("model/insert_observation_labels")
    digest = hashlib.sha256(text.encode())
    for _, definition in sorted(called_macros(text).items()):
        digest.update(definition.encode())
    return digest.hexdigest()


def keep_labels_from(as_of: date, config: ModelConfig) -> date:
    """The oldest observation night any window as of `as_of` reads (the retrain's, the widest):
    kept labels of older nights are dropped."""
    span = config.training_window_days + config.validation_days + config.monitoring_days
    return as_of - timedelta(days=span + _DAYS_PER_MONTH * config.horizon_months + 3)


def refresh_observation_labels(conn: duckdb.DuckDBPyConnection, nights: list[date], as_of: date,
                               config: ModelConfig) -> list[date]:
    """Compute the label pass of those of `nights` not kept (or kept stale) in
    observation_labels; returns them. Each night's pass is then done once, when its label
    matures, however many retrains and monitoring runs read it."""
    load_model_macros(conn)
    run_sql(conn, "ingest/create_ingest_log")
    run_sql(conn, "model/create_observation_labels")
    run_sql(conn, "model/create_observation_label_nights")
    definition = label_definition()
    params = {"nights": sorted(set(nights)), "horizon_months": config.horizon_months,
              "seed": config.seed, "definition": definition}
    stale = [_as_date(night) for (night,) in
             run_sql(conn, "model/stale_observation_label_nights", params,
                     ingest_log=book_table(conn, "ingest_log")).fetchall()]
    if not stale:
        return []
    bounds = {"nights": stale, "keep_from": min(keep_labels_from(as_of, config), min(stale))}
    with own_transaction(conn):
        run_sql(conn, "model/delete_observation_labels", bounds)
        run_sql(conn, "model/delete_observation_label_nights", bounds)
        run_sql(conn, "model/insert_observation_labels", params | {"nights": stale,
                                                                   "as_of": as_of})
        run_sql(conn, "model/insert_observation_label_nights",
                params | {"nights": stale, "built_at": datetime.now(UTC)})
    log.info("labels: the label pass of %d night(s) computed and kept (%s .. %s)", len(stale),
             stale[0], stale[-1])
    return stale


def load_label_keys(conn: duckdb.DuckDBPyConnection, nights: list[date], as_of: date,
                    config: ModelConfig, delinquent_nights: list[date] | None = None) -> None:
    """The temp view label_keys: every account of `nights`, every delinquent account of
    `delinquent_nights`, and where each went on the way to a label (from observation_labels,
    computed there first for the nights not kept yet)."""
    delinquent_nights = list(delinquent_nights or [])
    refresh_observation_labels(conn, list(nights) + delinquent_nights, as_of, config)
    run_sql(conn, "model/create_label_nights", {
        "nights": list(nights), "delinquent_nights": delinquent_nights,
        "current_night_weight": current_night_weight(nights, delinquent_nights),
        "excluded_buckets": list(config.excluded_buckets)})
    run_sql(conn, "model/create_label_keys")


def labels_for_nights(conn: duckdb.DuckDBPyConnection, nights: list[date], as_of: date,
                      config: ModelConfig, *, current_share: float | None = None,
                      max_rows: int | None = None,
                      delinquent_nights: list[date] | None = None) -> pd.DataFrame:
    """account_features rows of `nights` with label and weight (sql/model/labels.sql).

    Args:
        conn: the warehouse (account_features and account_snapshots).
        nights: observation nights; those not matured by `as_of` yield no rows.
        as_of: nothing dated after it is read for a label.
        config: horizon, population and seed.
        current_share: share of current rows to sample down to; default the config's, 1.0 keeps
            every row (monitoring wants the whole book).
        max_rows: cap on the rows returned (all strata thinned alike, weights adjusted); default
            the config's max_training_rows, 0 for no cap.
        delinquent_nights: further nights whose delinquent rows are observed too (weighted by
            models.dataset.current_night_weight).

    Returns:
        One row per labelled (night, account), ordered by night then account; the per-night
        counts of label_coverage.sql travel in `attrs` (read them with `coverage_of`).
    """
    load_label_keys(conn, nights, as_of, config, delinquent_nights)
    share = config.sample_current_share if current_share is None else current_share
    cap = config.max_training_rows if max_rows is None else max_rows
    rates = query(conn, "model/label_sample_rates", {
        "as_of": as_of, "current_share": float(share), "max_rows": int(cap)})
    keep_rate, cap_rate = (float(rates["current_keep_rate"].iloc[0]),
                           float(rates["cap_rate"].iloc[0]))
    observed = sorted(set(nights) | set(delinquent_nights or [])) or [as_of]
    frame = query(conn, "model/labels", {
        "as_of": as_of, "current_keep_rate": keep_rate, "cap_rate": cap_rate,
        "current_threshold": keep_rate * cap_rate * 2**32, "delinquent_threshold": cap_rate * 2**32,
        "first_night": observed[0], "last_night": observed[-1], "seed": config.seed})
    frame = frame.sort_values(["snapshot_date", "account_id"], ignore_index=True, kind="stable")
    coverage = query(conn, "model/label_coverage", {})
    # attrs are deep-copied by every pandas operation: keep them as one string
    frame.attrs["coverage"] = coverage.to_json(orient="records", date_format="iso")
    frame.attrs["as_of"] = as_of.isoformat()
    absent = int(coverage["absent_at_label_date"].sum()) if len(coverage) else 0
    excluded = int(coverage["excluded_bucket"].sum()) if len(coverage) else 0
    log.info("labels: %d rows on %d nights, delinquent rows on %d (as of %s); left out: %d absent "
             "at the label date, %d in excluded buckets", len(frame), len(nights),
             len(set(nights) | set(delinquent_nights or [])), as_of, absent, excluded)
    return frame


def matured_labels(conn: duckdb.DuckDBPyConnection, as_of: date,
                   config: ModelConfig) -> pd.DataFrame:
    """Features and label for the sampled matured observation nights up to `as_of - horizon`.

    The window is `training_window_days + validation_days + monitoring_days` back from the
    latest matured night (models.dataset.split_windows cuts it in three); nights are
    `observation_every_days` apart, and `delinquent_observation_every_days` apart for the
    delinquent rows; nights less than `required_history_days` after the book's
    first snapshot are left out (models.dataset.chosen_nights; longer look-backs are masked as
    partial by models.features.feature_array);
    current rows are sampled with weights. The first snapshot night travels in `attrs`.

    Raises:
        NotEnoughData: when no night has matured with enough history before it.
    """
    span = config.training_window_days + config.validation_days + config.monitoring_days
    earliest = as_of - timedelta(days=span + _DAYS_PER_MONTH * config.horizon_months + 3)
    first = first_snapshot_night(conn)
    nights = matured_nights(conn, as_of, config, earliest)
    if not nights:
        raise NotEnoughData(f"no night has a matured {config.horizon_months}-month label by {as_of}")
    latest = nights[-1]
    chosen = chosen_nights(nights, first, config, span)
    if not chosen:
        raise NotEnoughData(
            f"no matured night by {as_of} is {config.required_history_days} days after the "
            f"book's first snapshot ({first}): the features' look-backs would reach before it")
    frame = labels_for_nights(conn, chosen, as_of, config, delinquent_nights=chosen_nights(
        nights, first, config, span, config.delinquent_observation_every_days))
    frame.attrs["latest_matured_night"] = latest.isoformat()
    frame.attrs["first_snapshot"] = None if first is None else first.isoformat()
    return frame


def newly_matured_labels(conn: duckdb.DuckDBPyConnection, after: date, as_of: date,
                         config: ModelConfig) -> pd.DataFrame:
    """Every account of the nights after `after` whose label matured by `as_of`, unsampled.

    For monitoring: the labels that arrived since a model was built. Pass the model's
    validation_window["last_night"] for labels it has never seen (its validation nights steered
    early stopping), or training_window["last_night"] to include them.
    """
    nights = matured_nights(conn, as_of, config, after + timedelta(days=1))
    chosen = observation_nights(nights, config.observation_every_days)
    if not chosen:
        return pd.DataFrame()
    return labels_for_nights(conn, chosen, as_of, config, current_share=1.0, max_rows=0)


def features_for_night(conn: duckdb.DuckDBPyConnection, night: date) -> pd.DataFrame:
    """Every account_features row of one night, the input of nightly scoring."""
    return query(conn, "model/features_for_night", {"night": night})


def latest_matured_window(conn: duckdb.DuckDBPyConnection, as_of: date, config: ModelConfig,
                          after: date | None = None) -> pd.DataFrame:
    """Every account of the observation nights in the latest `monitoring_days` of matured
    nights, only those after `after` (the model's validation window's last night).

    For nightly monitoring: the freshest evidence the model has neither trained nor stopped
    on. Right after a retrain it is the window the retrain held out; each night it moves
    forward as labels mature. Current accounts are sampled and weighted back as for training:
    unsampled, a 1M-account book gave 4M rows here (71 s and most of an 8.8 GB peak in the
    whole-night bench). Empty when no such night has matured by `as_of`.
    """
    earliest = as_of - timedelta(days=config.monitoring_days + _DAYS_PER_MONTH
                                 * config.horizon_months + 3)
    if after is not None:
        earliest = max(earliest, after + timedelta(days=1))
    nights = matured_nights(conn, as_of, config, earliest)
    if not nights:
        return pd.DataFrame()
    first = first_snapshot_night(conn)
    chosen = chosen_nights(nights, first, config, config.monitoring_days)
    if not chosen:
        return pd.DataFrame()
    return labels_for_nights(conn, chosen, as_of, config, delinquent_nights=chosen_nights(
        nights, first, config, config.monitoring_days, config.delinquent_observation_every_days))
