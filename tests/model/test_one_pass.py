"""One pass over the matured window: the retrain's figures and tonight's PSI, checked by hand.

The retrain encodes the window once and shares predictions between the gate, the card and its
PSI; monitoring counts tonight's bins in DuckDB. Every figure here is computed again the plain
way, from the raw frame: a weighted AUC over every (positive, negative) pair, KS from sorted
CDFs, calibration by a pandas groupby, PSI from np.searchsorted shares.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from models.features import BUCKET_RANK
from models.registry import ModelRegistry
from models.retrain import retrain
from pipelines.lib.model.nightly import ensure_model_tables, score_nights
from pipelines.lib.model.psi_tonight import tonight_stability
from tests.model.conftest import CONFIG, END


def pairwise_auc(labels, scores, weights) -> float:
    """Σ w+ w- [s+ > s-] + ½ [s+ = s-] over every pair, over Σ w+ · Σ w-."""
    positive, negative = labels == 1, labels == 0
    if not positive.any() or not negative.any():
        return float("nan")
    sp, wp = scores[positive][:, None], weights[positive][:, None]
    sn, wn = scores[negative][None, :], weights[negative][None, :]
    wins = (wp * wn * ((sp > sn) + 0.5 * (sp == sn))).sum()
    return float(wins / (wp.sum() * wn.sum()))


def plain_ks(labels, scores, weights) -> float:
    values = np.unique(scores)
    positive = np.array([weights[(labels == 1) & (scores <= v)].sum() for v in values])
    negative = np.array([weights[(labels == 0) & (scores <= v)].sum() for v in values])
    return float(np.abs(positive / positive[-1] - negative / negative[-1]).max())


def plain_psi(reference_shares, values, edges) -> float:
    values = np.asarray(values, dtype="float64")
    bins = np.where(np.isnan(values), len(edges) + 1, np.searchsorted(edges, values, "right"))
    tonight = np.bincount(bins, minlength=len(edges) + 2) / len(values)
    expected = np.maximum(np.asarray(reference_shares), 1e-4)
    actual = np.maximum(tonight, 1e-4)
    return float(((actual - expected) * np.log(actual / expected)).sum())


@pytest.fixture(scope="module")
def judged(tmp_path_factory, labelled):
    """A champion, then a challenger (another depth) judged against it on the same window."""
    registry = ModelRegistry(tmp_path_factory.mktemp("one_pass_registry"))
    code = {"commit": "test", "dirty": False}
    first = retrain(labelled, END, registry, CONFIG, code=code, source_definitions={})
    second = retrain(labelled, END, registry, dataclasses.replace(CONFIG, max_depth=2),
                     code=code, source_definitions={})
    return registry, first, second


def window_rows(labelled, window: dict) -> pd.DataFrame:
    nights = pd.to_datetime(labelled["snapshot_date"])
    inside = ((nights >= pd.Timestamp(window["first_night"]))
              & (nights <= pd.Timestamp(window["last_night"])))
    return labelled[inside.to_numpy()].reset_index(drop=True)


def check_metrics(metrics: dict, model, rows: pd.DataFrame) -> None:
    scores = model.booster.predict(model.matrix(rows)).astype("float64")
    labels = rows["label"].to_numpy(dtype="float64")
    weights = rows["weight"].to_numpy(dtype="float64")
    assert metrics["window"]["rows"] == len(rows)
    assert metrics["auc"] == pytest.approx(pairwise_auc(labels, scores, weights), abs=1e-9)
    assert metrics["ks"] == pytest.approx(plain_ks(labels, scores, weights), abs=1e-9)
    frame = pd.DataFrame({"bucket": rows["bucket"].astype(str), "w": weights,
                          "wy": weights * labels, "ws": weights * scores})
    sums = frame.groupby("bucket").sum()
    by_bucket = {row["bucket"]: row for row in metrics["calibration_by_bucket"]}
    assert set(by_bucket) == set(sums.index)
    for bucket, row in by_bucket.items():
        inside = (rows["bucket"].astype(str) == bucket).to_numpy()
        assert row["rows"] == int(inside.sum())
        assert row["accounts"] == rows.loc[inside, "account_id"].nunique()
        assert row["mean_predicted"] == pytest.approx(sums.loc[bucket, "ws"] / sums.loc[bucket, "w"])
        assert row["observed_rate"] == pytest.approx(sums.loc[bucket, "wy"] / sums.loc[bucket, "w"])
        expected = pairwise_auc(labels[inside], scores[inside], weights[inside])
        if np.isnan(expected):
            assert np.isnan(row["auc"])
        else:
            assert row["auc"] == pytest.approx(expected, abs=1e-9), bucket


def test_gate_figures_match_a_plain_computation(judged, labelled):
    registry, first, second = judged
    assert first.champion_before is None and second.champion_before == first.version
    challenger, champion = registry.load(second.version), registry.load(first.version)
    card = registry.card(second.version)
    validation = window_rows(labelled, card["data_window"]["validation"])
    check_metrics(second.metrics, challenger, validation)
    check_metrics(second.champion_metrics, champion, validation)
    assert second.champion_metrics["window"] == second.metrics["window"]
    monitoring = window_rows(labelled, challenger.monitoring_window)
    check_metrics(card["metrics"]["monitoring"], challenger, monitoring)
    auc_floor = second.champion_metrics["auc"] - CONFIG.auc_margin
    assert any(("AUC" in reason) for reason in second.decision.reasons)
    if second.metrics["auc"] < auc_floor:
        assert not second.decision.promote


def test_tonight_psi_counted_in_duckdb_matches_numpy(judged, book):
    registry, first, _ = judged
    model = registry.load(first.version)
    tonight = book.conn.execute("select * from account_features where snapshot_date = ?",
                                [END]).df()
    conn = duckdb.connect()  # tonight's night alone: scoring it leaves the shared book as it is
    conn.register("tonight", tonight)
    conn.execute("create table account_features as select * from tonight")
    ensure_model_tables(conn)
    assert tonight_stability(conn, model, END) is None  # no score by this model yet
    score_nights(conn, model, CONFIG, [END], set())
    counted = tonight_stability(conn, model, END)
    assert counted is not None
    tonight = tonight[~tonight["bucket"].isin(list(model.excluded_buckets))]
    assert counted["rows"] == len(tonight)
    scores = model.booster.predict(model.matrix(tonight))
    reference = model.reference
    assert counted["score"]["psi"] == pytest.approx(
        plain_psi(reference["score"]["shares"], scores, reference["score"]["edges"]), abs=1e-12)
    whole = (END - timedelta(days=0)) - pd.Timestamp(model.first_snapshot).date()
    by_feature = {row["feature"]: row for row in counted["features"]}
    checked = 0
    for name in model.feature_names:
        bins = reference["features"][name]
        days = {"max_dpd_180d": 180, "max_dpd_90d": 90}.get(name, 0)
        if days > whole.days or not bins["edges"]:
            continue
        if name == "bucket_rank":
            values = tonight["bucket"].map(BUCKET_RANK).astype("float64")
        elif name in ("days_past_due", "utilisation", "balance", "max_dpd_90d", "max_dpd_180d",
                      "months_on_book", "bureau_score"):
            values = pd.to_numeric(tonight[name]).astype("float64")
        else:
            continue
        assert by_feature[name]["psi"] == pytest.approx(
            plain_psi(bins["shares"], values.to_numpy(), bins["edges"]), abs=1e-12), name
        checked += 1
    assert checked >= 4
