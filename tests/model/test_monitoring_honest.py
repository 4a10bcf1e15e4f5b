"""Monitoring that means something: no model feature without data, no PSI of empty data, no
look-back reaching before the book, and a monitoring window that training never saw.

Every expected figure is worked out by hand on a handful of rows written here.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from models.config import ModelConfig
from models.dataset import NotEnoughData, nights_with_history, split_windows
from models.features import lookback_days, uninformative_features
from models.monitoring import stability
from models.psi import NO_DATA, bin_edges, psi, psi_status
from models.registry import build_card, card_markdown
from models.scoring import reason_codes, score
from models.train import train_model

FAST = ModelConfig(num_boost_round=20, early_stopping_rounds=5, min_child_weight=1.0,
                   subsample=1.0, colsample_bytree=1.0, nthread=1)


def hand_book(night: date, rows: int = 80) -> pd.DataFrame:
    """`rows` accounts on one night: risk grows with days past due; bureau_score and cpi_yoy never
    arrived (null), status_closed is 0 for everyone (status always open)."""
    dpd = np.tile([0, 0, 0, 5, 15, 35, 65, 95], rows // 8)
    return pd.DataFrame({
        "snapshot_date": night,
        "account_id": [f"A{i:03d}" for i in range(rows)],
        "bucket": np.where(dpd == 0, "M0", np.where(dpd <= 30, "M1", "M2")),
        "days_past_due": dpd.astype(float),
        "utilisation": np.linspace(0.1, 0.9, rows),
        "status": "open",
        "bureau_score": np.nan,
        "cpi_yoy": None,
        "label": (dpd >= 15).astype(int) ^ (np.arange(rows) % 16 == 0),
        "weight": 1.0,
    })


NAMES = ["days_past_due", "utilisation", "bureau_score", "cpi_yoy", "status_closed"]


@pytest.fixture(scope="module")
def hand_model():
    train = hand_book(date(2025, 3, 1))
    validation = hand_book(date(2025, 3, 8))
    return train_model(train, validation, FAST, feature_names=NAMES), validation


def test_null_and_constant_features_are_dropped_and_listed(hand_model):
    model, _ = hand_model
    assert model.feature_names == ["days_past_due", "utilisation"]
    assert model.dropped_features == {
        "bureau_score": "null on every one of the 80 training rows",
        "cpi_yoy": "null on every one of the 80 training rows",
        "status_closed": "0 on every one of the 80 training rows",
    }
    card = build_card(model, {"auc": 1.0, "gini": 1.0, "ks": 1.0, "brier": 0.0,
                              "observed_rate": 0.5, "mean_predicted": 0.5,
                              "calibration_by_bucket": [], "lift_by_decile": [],
                              "calibration_by_decile": []},
                      FAST, code={"commit": "test", "dirty": False})
    assert card["dropped_features"] == model.dropped_features
    text = card_markdown(card)
    assert "| bureau_score | null on every one of the 80 training rows |" in text
    assert "`bureau_score`" not in text  # not in the model's feature list


def test_a_value_or_null_feature_is_kept():
    frame = pd.DataFrame({"snapshot_date": date(2025, 3, 1), "bucket": "M0",
                          "bureau_score": [600.0, np.nan, 600.0], "utilisation": [0.5] * 3})
    assert uninformative_features(frame, ["bureau_score", "utilisation"]) == {
        "utilisation": "0.5 on every one of the 3 training rows"}


def test_scoring_and_reasons_without_the_dropped_features(hand_model):
    model, validation = hand_model
    tonight = validation.drop(columns=["bureau_score", "cpi_yoy"])  # the feeds are not there
    scores = score(model, tonight, FAST)
    assert scores["probability"].notna().all()
    overdue = tonight.loc[tonight["days_past_due"] > 0, "account_id"].tolist()
    reasons = reason_codes(model, tonight, overdue)
    assert set(reasons["feature"]) <= {"days_past_due", "utilisation"}


def test_psi_of_a_known_two_bin_distribution():
    # expected: half 0, half 1 -> deciles give edges [0, 1]: bins (<0) [0,1) (>=1) (missing)
    # with shares 0, 0.5, 0.5, 0; actual 20 % zeros, 80 % ones: 0, 0.2, 0.8, 0.
    # PSI = (0.2 - 0.5) ln(0.2/0.5) + (0.8 - 0.5) ln(0.8/0.5) = 0.274887 + 0.141001 = 0.415888
    expected = np.array([0.0] * 50 + [1.0] * 50)
    actual = np.array([0.0] * 20 + [1.0] * 80)
    assert psi(expected, actual) == pytest.approx(0.415888, abs=1e-6)
    assert psi_status(psi(expected, actual)) == "act"


def test_psi_of_empty_or_all_null_data_is_no_data_never_stable():
    values = np.array([1.0, 2.0, 3.0, 4.0])
    nulls = np.full(4, np.nan)
    assert math.isnan(psi(nulls, nulls))  # identical, yet nothing to compare
    assert math.isnan(psi(values, nulls))
    assert math.isnan(psi(nulls, values))
    assert math.isnan(psi(values, np.array([])))
    assert psi_status(float("nan")) == NO_DATA == "no_data"


def test_stability_reads_no_data_for_a_feature_null_tonight(hand_model):
    model, validation = hand_model
    tonight = validation.assign(utilisation=np.nan)
    rows = {row["feature"]: row for row in stability(model, tonight)["features"]}
    assert rows["utilisation"]["status"] == NO_DATA
    assert rows["utilisation"]["why"] == "null on every row tonight"
    assert math.isnan(rows["utilisation"]["psi"])
    assert rows["days_past_due"]["status"] == "stable"  # same rows as the reference's shape
    empty = stability(model, validation.iloc[:0])
    assert {row["status"] for row in empty["features"]} == {NO_DATA}
    assert empty["score"]["status"] == NO_DATA


def test_lookback_of_each_feature_follows_its_definition():
    days = lookback_days()
    assert days["max_dpd_30d"] == 30
    assert days["balance_change_90d"] == days["utilisation_change_90d"] == 90
    assert days["times_30plus_180d"] == days["on_time_cycles"] == 180
    assert days["bucket_1m_ago_rank"] == days["roll_state_new"] == 34  # a month + 3 days
    assert days["balance"] == days["days_past_due"] == 0


def test_nights_whose_90_day_lookback_reaches_before_the_first_snapshot_are_left_out():
    first = date(2025, 1, 1)
    nights = [date(2025, 3, 31), date(2025, 4, 1), date(2025, 4, 8)]
    # 31 Mar - 90 days = 31 Dec 2024, before the first snapshot; 1 Apr - 90 days = 1 Jan 2025
    assert nights_with_history(nights, first, 90) == [date(2025, 4, 1), date(2025, 4, 8)]
    assert nights_with_history(nights, None, 90) == nights


def test_matured_labels_skip_nights_without_the_required_history(book, labelled):
    from tests.model.conftest import CONFIG

    assert labelled.attrs["first_snapshot"] == book.start.isoformat()
    first_used = pd.to_datetime(labelled["snapshot_date"]).min().date()
    assert (first_used - book.start).days >= CONFIG.required_history_days


def test_a_feature_without_a_whole_lookback_in_training_has_no_psi_reference(hand_model):
    _, validation = hand_model
    # first snapshot 30 days before the training night: days_past_due (look-back 0) is binned,
    # a 90-day feature would not be; utilisation_change_90d stands in for it.
    train = hand_book(date(2025, 3, 1)).assign(utilisation_change_90d=np.linspace(-1, 1, 80))
    # partial on every training row, it is missing there and so left out, saying why
    model = train_model(train, validation.assign(utilisation_change_90d=0.0), FAST,
                        feature_names=["days_past_due", "utilisation_change_90d"],
                        first_snapshot=date(2025, 1, 30))
    assert model.feature_names == ["days_past_due"]
    assert model.dropped_features["utilisation_change_90d"] == (
        "look-back of 90 days reaches before the book's first snapshot (2025-01-30) on every "
        "one of the 80 training rows")
    assert model.partial_training_rows == {"utilisation_change_90d": 80}
    assert model.reference["features"]["days_past_due"]["edges"] != []
    # kept as a column of the booster (no first snapshot at training), the reference still
    # bins only whole nights once the model knows the book's start
    model = train_model(train, validation.assign(utilisation_change_90d=0.0), FAST,
                        feature_names=["days_past_due", "utilisation_change_90d"])
    model.first_snapshot = "2025-01-30"
    tonight = hand_book(date(2025, 3, 8)).assign(utilisation_change_90d=np.linspace(-1, 1, 80))
    rows = {row["feature"]: row for row in stability(model, tonight)["features"]}
    assert rows["utilisation_change_90d"]["status"] == NO_DATA
    assert "90-day look-back" in rows["utilisation_change_90d"]["why"]


def weekly(first: date, count: int) -> pd.DataFrame:
    nights = [first + timedelta(days=7 * i) for i in range(count)]
    return pd.DataFrame({"snapshot_date": np.repeat(nights, 2), "label": [0, 1] * count})


def test_three_windows_are_disjoint_and_ordered():
    # nights 5 Jan .. 6 Apr 2025, weekly (14); latest 6 Apr. Monitoring: after 6 Apr - 28 days
    # = 9 Mar: 16, 23, 30 Mar, 6 Apr. Validation: after 9 Mar - 21 days = 16 Feb up to 9 Mar:
    # 23 Feb, 2 and 9 Mar. Training: 5 Jan .. 16 Feb (7 nights).
    config = ModelConfig(validation_days=21, monitoring_days=28)
    train, validation, monitoring = split_windows(weekly(date(2025, 1, 5), 14), config)

    def nights(part):
        return sorted(pd.to_datetime(part["snapshot_date"]).dt.date.unique())

    assert nights(monitoring) == [date(2025, 3, 16), date(2025, 3, 23), date(2025, 3, 30),
                                  date(2025, 4, 6)]
    assert nights(validation) == [date(2025, 2, 23), date(2025, 3, 2), date(2025, 3, 9)]
    assert nights(train) == [date(2025, 1, 5) + timedelta(days=7 * i) for i in range(7)]
    assert max(nights(train)) < min(nights(validation))
    assert max(nights(validation)) < min(nights(monitoring))


def test_a_book_too_young_for_three_windows_says_so():
    config = ModelConfig(validation_days=21, monitoring_days=28)
    with pytest.raises(NotEnoughData, match="too young for three disjoint windows"):
        split_windows(weekly(date(2025, 1, 5), 7), config)  # 7 weeks: no training night


def test_a_dominant_value_gets_a_bin_of_its_own():
    # 95 % current (0), 5 % one bucket behind (1): every decile edge is 0, so without a bin of
    # its own for 0 all rows share one bin and any shift reads PSI 0. With edges [0, 1]:
    # reference 0.95 | 0.05, tonight 0.90 | 0.10 ->
    # (0.90 - 0.95) ln(0.90/0.95) + (0.10 - 0.05) ln(0.10/0.05) = 0.0027033 + 0.0346574
    expected = np.array([0.0] * 95 + [1.0] * 5)
    assert bin_edges(expected) == [0.0, 1.0]
    assert psi(expected, np.array([0.0] * 90 + [1.0] * 10)) == pytest.approx(0.0373607, abs=1e-6)


def test_auc_inside_each_bucket_equals_a_pairwise_count(hand_model):
    from models.evaluate import evaluate

    model, validation = hand_model
    frame = validation.assign(label=validation["label"] ^ (np.arange(len(validation)) % 5 == 0))
    scores = model.predict(frame)
    by_bucket = {row["bucket"]: row for row in evaluate(model, frame)["calibration_by_bucket"]}
    for bucket, rows in frame.groupby("bucket"):
        s, y = scores[rows.index], rows["label"].to_numpy()
        positives, negatives = s[y == 1], s[y == 0]
        if len(positives) == 0 or len(negatives) == 0:
            assert math.isnan(by_bucket[bucket]["auc"])
            continue
        # every (positive, negative) pair: 1 when the positive scores higher, 1/2 on a tie
        wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
        assert by_bucket[bucket]["auc"] == pytest.approx(wins / (len(positives) * len(negatives)))
        assert by_bucket[bucket]["positives"] == len(positives)
