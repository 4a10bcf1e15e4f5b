"""The training set: account_features on matured observation nights, with the roll-forward label.

Why this shape (DOMAIN.md §3): a night's label exists only once the night is `horizon_months`
old, so only matured nights are read, and the label comes from snapshots dated at or before
`as_of`; validation is the latest matured nights (out of time), never a random split. Observation
nights are sampled (weekly by default) because consecutive nights of one account are nearly the
same row; current accounts are sampled down and weighted back so delinquent accounts are not
drowned while the weighted means stay the book's.
"""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta

import duckdb
import pandas as pd

from models.config import ModelConfig
from pipelines.lib.features.account_features import load_feature_macros
from pipelines.lib.sql import bind, render_sql
from pipelines.lib.warehouse import load_macros

log = logging.getLogger(__name__)

# The longest month is 31 days; the label may also be read up to 3 days early.
_DAYS_PER_MONTH = 31


class NotEnoughData(ValueError):
    """The warehouse has no matured night (or too few) to train or validate on."""


def load_model_macros(conn: duckdb.DuckDBPyConnection) -> None:
    """The domain macros (bucket, rank) and the model's own months_later."""
    load_feature_macros(conn)
    load_macros(conn, "model/macros")


def _query(conn: duckdb.DuckDBPyConnection, name: str, params: dict) -> pd.DataFrame:
    sql = render_sql(name)
    return conn.execute(sql, bind(sql, params)).df()


def _as_date(value) -> date:
    return pd.Timestamp(value).date()


def matured_nights(conn: duckdb.DuckDBPyConnection, as_of: date, config: ModelConfig,
                   earliest: date) -> list[date]:
    """The account_features nights in [earliest, as_of] whose label has matured by `as_of`."""
    load_model_macros(conn)
    frame = _query(conn, "model/matured_nights", {
        "as_of": as_of, "earliest": earliest, "horizon_months": config.horizon_months})
    return [_as_date(night) for night in frame["night"]]


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


def load_label_keys(conn: duckdb.DuckDBPyConnection, nights: list[date], as_of: date,
                    config: ModelConfig) -> None:
    """The temp table label_keys: every account of `nights` and where it went on the way to a label."""
    load_model_macros(conn)
    sql = render_sql("model/create_label_keys")
    conn.execute(sql, bind(sql, {
        "nights": list(nights), "as_of": as_of, "horizon_months": config.horizon_months,
        "excluded_buckets": list(config.excluded_buckets)}))


def labels_for_nights(conn: duckdb.DuckDBPyConnection, nights: list[date], as_of: date,
                      config: ModelConfig, *, current_share: float | None = None,
                      max_rows: int | None = None) -> pd.DataFrame:
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

    Returns:
        One row per labelled (night, account), ordered by night then account; the per-night
        counts of label_coverage.sql travel in `attrs` (read them with `coverage_of`).
    """
    load_label_keys(conn, nights, as_of, config)
    share = config.sample_current_share if current_share is None else current_share
    cap = config.max_training_rows if max_rows is None else max_rows
    frame = _query(conn, "model/labels", {
        "as_of": as_of, "current_share": float(share), "max_rows": int(cap), "seed": config.seed})
    coverage = _query(conn, "model/label_coverage", {})
    # attrs are deep-copied by every pandas operation: keep them as one string
    frame.attrs["coverage"] = coverage.to_json(orient="records", date_format="iso")
    frame.attrs["as_of"] = as_of.isoformat()
    absent = int(coverage["absent_at_label_date"].sum()) if len(coverage) else 0
    excluded = int(coverage["excluded_bucket"].sum()) if len(coverage) else 0
    log.info("labels: %d rows on %d nights (as of %s); left out: %d absent at the label date, "
             "%d in excluded buckets", len(frame), len(nights), as_of, absent, excluded)
    return frame


def coverage_of(frame: pd.DataFrame) -> list[dict]:
    """The label_coverage records that came with a frame from `labels_for_nights` (else [])."""
    text = frame.attrs.get("coverage")
    return json.loads(text) if text else []


def matured_labels(conn: duckdb.DuckDBPyConnection, as_of: date,
                   config: ModelConfig) -> pd.DataFrame:
    """Features and label for the sampled matured observation nights up to `as_of - horizon`.

    The window is `training_window_days + validation_days` back from the latest matured night;
    nights are `observation_every_days` apart; current rows are sampled with weights.

    Raises:
        NotEnoughData: when no night has matured.
    """
    span = config.training_window_days + config.validation_days
    earliest = as_of - timedelta(days=span + _DAYS_PER_MONTH * config.horizon_months + 3)
    nights = matured_nights(conn, as_of, config, earliest)
    if not nights:
        raise NotEnoughData(f"no night has a matured {config.horizon_months}-month label by {as_of}")
    latest = nights[-1]
    in_window = [night for night in nights if (latest - night).days < span]
    chosen = observation_nights(in_window, config.observation_every_days)
    frame = labels_for_nights(conn, chosen, as_of, config)
    frame.attrs["latest_matured_night"] = latest.isoformat()
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


def features_for_night(conn: duckdb.DuckDBPyConnection, night: date) -> pd.DataFrame:
    """Every account_features row of one night, the input of nightly scoring."""
    return _query(conn, "model/features_for_night", {"night": night})


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


def latest_matured_window(conn: duckdb.DuckDBPyConnection, as_of: date,
                          config: ModelConfig) -> pd.DataFrame:
    """Every account of the observation nights in the latest `validation_days` of matured nights.

    For nightly monitoring: the freshest out-of-time evidence there is. Right after a retrain it
    is the champion's own validation window; each night it moves forward as labels mature.
    Current accounts are sampled and weighted back as for training: unsampled, a 1M-account
    book gave 4M rows here (71 s and most of an 8.8 GB peak in the whole-night bench).
    Empty when nothing has matured by `as_of`.
    """
    earliest = as_of - timedelta(days=config.validation_days + _DAYS_PER_MONTH
                                 * config.horizon_months + 3)
    nights = matured_nights(conn, as_of, config, earliest)
    if not nights:
        return pd.DataFrame()
    latest = nights[-1]
    in_window = [night for night in nights if (latest - night).days < config.validation_days]
    chosen = observation_nights(in_window, config.observation_every_days)
    return labels_for_nights(conn, chosen, as_of, config)
