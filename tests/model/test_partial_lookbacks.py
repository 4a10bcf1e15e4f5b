"""Partial look-backs: a feature whose look-back reaches before the book's first snapshot is
missing on that night, in training and scoring alike; the short-history night rule on a stated
book span.

Every expected figure is worked out by hand on rows written here.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from models.config import ModelConfig
from models.dataset import chosen_nights, split_windows
from models.features import feature_array, partial_lookbacks
from models.registry import build_card, card_markdown
from models.scoring import reason_codes, score
from models.train import train_model

FIRST = date(2025, 1, 1)
NIGHT_40 = date(2025, 2, 10)   # 1 Jan + 40 days: 30- and 34-day look-backs whole, 90 not
NIGHT_100 = date(2025, 4, 11)  # 1 Jan + 100 days: 90 whole, 180 not
NAMES = ["days_past_due", "max_dpd_30d", "max_dpd_90d", "max_dpd_180d"]
FAST = ModelConfig(num_boost_round=30, early_stopping_rounds=10, min_child_weight=1.0,
                   subsample=1.0, colsample_bytree=1.0, learning_rate=0.3, nthread=1)


def two_nights() -> pd.DataFrame:
    return pd.DataFrame({
        "snapshot_date": [NIGHT_40, NIGHT_40, NIGHT_100, NIGHT_100],
        "account_id": ["A1", "A2", "A1", "A2"],
        "bucket": ["M1", "M0", "M2", "M0"],
        "days_past_due": [10.0, 0.0, 40.0, 0.0],
        "max_dpd_30d": [10.0, 0.0, 40.0, 0.0],
        "max_dpd_90d": [12.0, 3.0, 45.0, 3.0],
        "max_dpd_180d": [12.0, 3.0, 45.0, 3.0],
    })


def test_a_90_day_feature_is_missing_40_days_after_the_first_snapshot_and_present_at_100():
    values = feature_array(two_nights(), NAMES, first_snapshot=FIRST)
    # columns: days_past_due, max_dpd_30d, max_dpd_90d, max_dpd_180d
    np.testing.assert_array_equal(values[:, 0], [10, 0, 40, 0])
    np.testing.assert_array_equal(values[:, 1], [10, 0, 40, 0])
    np.testing.assert_array_equal(values[:, 2], [np.nan, np.nan, 45, 3])
    np.testing.assert_array_equal(values[:, 3], [np.nan] * 4)
    partial = partial_lookbacks(two_nights(), NAMES, FIRST)
    assert {name: rows.tolist() for name, rows in partial.items()} == {
        "max_dpd_90d": [True, True, False, False], "max_dpd_180d": [True] * 4}
    # the book's start unknown: nothing is masked
    np.testing.assert_array_equal(feature_array(two_nights(), NAMES)[:, 2], [12, 3, 45, 3])


def test_the_boundary_night_is_whole():
    # 1 Jan + 90 days = 1 Apr: the look-back's first day is the first snapshot itself
    frame = two_nights().assign(snapshot_date=[date(2025, 3, 31)] * 2 + [date(2025, 4, 1)] * 2)
    np.testing.assert_array_equal(feature_array(frame, ["max_dpd_90d"], first_snapshot=FIRST)[:, 0],
                                  [np.nan, np.nan, 45, 3])


def risk_book(night: date, rows: int = 120) -> pd.DataFrame:
    """Risk follows max_dpd_90d only: rolled forward exactly when it is 30 or more."""
    worst = np.tile([0.0, 0.0, 5.0, 20.0, 35.0, 60.0], rows // 6)
    return pd.DataFrame({
        "snapshot_date": night,
        "account_id": [f"A{i:03d}" for i in range(rows)],
        "bucket": "M0",
        "days_past_due": 0.0,
        "max_dpd_90d": worst,
        "label": (worst >= 30).astype(int),
        "weight": 1.0,
    })


@pytest.fixture(scope="module")
def partial_model():
    # training: a night 40 days in (max_dpd_90d partial) and one 100 days in (whole)
    train = pd.concat([risk_book(NIGHT_40), risk_book(NIGHT_100)], ignore_index=True)
    validation = risk_book(NIGHT_100 + timedelta(days=7))
    return train_model(train, validation, FAST, feature_names=["max_dpd_90d"],
                       first_snapshot=FIRST)


def test_training_counts_the_partial_rows_and_the_card_states_them(partial_model):
    assert partial_model.feature_names == ["max_dpd_90d"]
    assert partial_model.partial_training_rows == {"max_dpd_90d": 120}  # the 40-day night
    # the PSI reference bins the 100-day night only: none of its 120 rows is missing (had the
    # masked night been binned, the missing bin, last, would hold half the weight)
    shares = partial_model.reference["features"]["max_dpd_90d"]["shares"]
    assert shares[-1] == 0 and sum(shares) == pytest.approx(1)
    card = build_card(partial_model, {"window": {}, "calibration_by_bucket": []}, FAST,
                      code={"commit": "x"})
    assert card["partial_lookbacks"] == [{
        "feature": "max_dpd_90d", "lookback_days": 90, "partial_training_rows": 120,
        "training_rows": 240, "dropped": False}]


def test_scoring_masks_a_partial_lookback_the_way_training_did(partial_model):
    tonight = pd.concat([risk_book(NIGHT_40, 6), risk_book(NIGHT_100, 6)], ignore_index=True)
    scored = score(partial_model, tonight, FAST)
    # by hand: the booster fed max_dpd_90d = NaN on the 40-day night, the value on the 100-day one
    by_hand = np.r_[[np.nan] * 6, [0, 0, 5, 20, 35, 60]].reshape(-1, 1)
    expected = partial_model.booster.predict(
        xgb.DMatrix(by_hand.astype("float32"), feature_names=["max_dpd_90d"]))
    np.testing.assert_allclose(scored["probability"], expected, rtol=1e-6)
    # partial: one probability for all six accounts; whole: the 35- and 60-day ones riskier
    assert len(set(scored["probability"][:6].round(9))) == 1
    assert scored["probability"][10] > scored["probability"][8]
    # unmasked, the 40-day night would have scored like the 100-day one: the mask matters
    unmasked = partial_model.booster.predict(xgb.DMatrix(
        feature_array(tonight, partial_model.feature_names, dtype="float32"),
        feature_names=partial_model.feature_names))
    assert unmasked[4] != pytest.approx(scored["probability"][4])


def test_reason_codes_never_cite_a_partial_lookback(partial_model):
    tonight = pd.concat([risk_book(NIGHT_40, 6), risk_book(NIGHT_100, 6)], ignore_index=True)
    tonight["account_id"] = [f"N40-{i}" for i in range(6)] + [f"N100-{i}" for i in range(6)]
    reasons = reason_codes(partial_model, tonight, tonight["account_id"])
    assert not reasons["account_id"].str.startswith("N40-").any()
    assert "N100-5" in set(reasons.loc[reasons["feature"] == "max_dpd_90d", "account_id"])


def test_card_markdown_lists_the_partial_rows(partial_model):
    card = build_card(partial_model, {"window": {}, "auc": None, "gini": None, "ks": None,
                                      "brier": None, "observed_rate": None,
                                      "mean_predicted": None, "calibration_by_bucket": [],
                                      "lift_by_decile": [], "calibration_by_decile": []},
                      FAST, code={"commit": "x"}, as_of="2025-04-18")
    card["data_window"]["label_coverage"] = {}
    assert "| max_dpd_90d | 90 | 120 | 240 |  |" in card_markdown(card)


def test_training_nights_on_a_180_night_book():
    # The demo book: first snapshot 5 Jun 2026, nightly to 1 Dec 2026, retrain as of 1 Dec.
    # A one-month label of 1 Nov matures on 1 Dec, so matured nights are 5 Jun .. 1 Nov.
    first = date(2026, 6, 5)
    matured = [first + timedelta(days=i) for i in range((date(2026, 11, 1) - first).days + 1)]
    config = ModelConfig()  # weekly, 182 + 28 + 28 days, required history 35
    nights = chosen_nights(matured, first, config, 182 + 28 + 28)
    # weekly back from 1 Nov down to 12 Jul (5 Jun + 37 days; 5 Jul is only 30 days in)
    assert nights[0] == date(2026, 7, 12) and nights[-1] == date(2026, 11, 1)
    assert len(nights) == 17
    frame = pd.DataFrame({"snapshot_date": nights, "label": [0, 1] * 8 + [0]})
    train, validation, monitoring = split_windows(frame, config)
    # monitoring after 4 Oct: 11, 18, 25 Oct, 1 Nov; validation after 6 Sep: 13 Sep .. 4 Oct;
    # training 12 Jul .. 6 Sep: 9 nights (the old 90-day rule kept only 6 Sep)
    assert sorted(set(train["snapshot_date"])) == [date(2026, 7, 12) + timedelta(days=7 * i)
                                                   for i in range(9)]
    assert len(set(validation["snapshot_date"])) == len(set(monitoring["snapshot_date"])) == 4
    old_rule = chosen_nights(matured, first, ModelConfig(required_history_days=90), 238)
    assert [night for night in old_rule if night <= date(2026, 9, 6)] == [date(2026, 9, 6)]
