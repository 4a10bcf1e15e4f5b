"""Training: deterministic, good out of time, close to the simulator's truth, robust to gaps."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from models.config import ModelConfig
from models.evaluate import evaluate
from models.features import FEATURE_NAMES, feature_by_name
from models.train import train_model
from tests.model.conftest import CONFIG


def test_retrain_on_the_same_data_gives_the_same_model(split, model):
    train, validation = split
    again = train_model(train.copy(), validation.copy(), CONFIG,
                        first_snapshot=model.first_snapshot)
    assert again.model_bytes("ubj") == model.model_bytes("ubj")
    assert again.model_bytes("json") == model.model_bytes("json")
    assert again.best_iteration == model.best_iteration


def test_model_is_xgboost_json_with_the_feature_names_and_constraints(model):
    document = json.loads(model.model_bytes("json"))
    kept = [name for name in FEATURE_NAMES if name not in model.dropped_features]
    assert document["learner"]["feature_names"] == kept == model.feature_names
    assert model.params["tree_method"] == "hist"
    constraints = model.params["monotone_constraints"].strip("()").split(",")
    assert int(constraints[kept.index("days_past_due")]) == 1
    assert int(constraints[kept.index("max_dpd_30d")]) == 1
    assert int(constraints[kept.index("balance")]) == 0
    # a 120-night book trained on nights 3-8 weeks old: every 90- and 180-day feature (the
    # decreasing ones among them) is partial on every training row and left out
    assert "look-back of 180 days" in model.dropped_features["on_time_cycles"]
    assert "look-back of 90 days" in model.dropped_features["max_dpd_90d"]
    assert model.best_iteration < CONFIG.num_boost_round - 1  # early stopping stopped it


def test_out_of_time_quality_and_agreement_with_the_truth(book, split, model):
    _, validation = split
    metrics = evaluate(model, validation)
    assert metrics["auc"] > 0.7
    assert metrics["gini"] == pytest.approx(2 * metrics["auc"] - 1)
    assert 0 < metrics["ks"] <= 1
    base_rate = metrics["observed_rate"]
    assert metrics["brier"] < base_rate * (1 - base_rate)  # beats predicting the mean
    assert abs(metrics["mean_predicted"] - base_rate) < 0.02
    assert [row["decile"] for row in metrics["lift_by_decile"]] == list(range(1, 11))
    assert metrics["lift_by_decile"][0]["lift"] > 3
    assert metrics["lift_by_decile"][-1]["cumulative_capture"] == pytest.approx(1.0)
    assert [row["bucket"] for row in metrics["calibration_by_bucket"]][:3] == ["M0", "M1", "M2"]

    scored = validation.assign(probability=model.predict(validation),
                               snapshot_date=pd.to_datetime(validation["snapshot_date"]))
    merged = scored.merge(book.truth(scored["snapshot_date"].unique()),
                          on=["snapshot_date", "account_id"])
    assert len(merged) == len(scored)
    correlation = np.corrcoef(merged["probability"],
                              merged["true_roll_forward_probability"])[0, 1]
    assert correlation > 0.6


def test_more_days_past_due_never_lowers_the_risk(split, model):
    _, validation = split
    rows = validation[validation["bucket"] == "M1"].head(50)
    lower = model.predict(rows)
    worse = rows.assign(days_past_due=rows["days_past_due"] + 30,
                        max_dpd_30d=rows["max_dpd_30d"] + 30)
    assert (model.predict(worse) >= lower - 1e-9).all()


def test_missing_features_do_not_break_training(split):
    train, validation = split
    gone = ["bureau_score", "unemployment_rate", "cpi_yoy", "payment_ratio"]
    train = train.drop(columns=["bureau_score"]).assign(payment_ratio=np.nan)
    validation = validation.drop(columns=["bureau_score"]).assign(payment_ratio=np.nan)
    fast = dataclasses.replace(CONFIG, num_boost_round=30)
    model = train_model(train, validation, fast)
    assert np.isfinite(model.predict(validation)).all()
    importance = model.booster.get_score(importance_type="weight")
    assert not set(gone) & set(importance)


def test_feature_list_covers_the_numeric_account_features():
    specs = feature_by_name()
    sources = {spec.source for spec in specs.values()}
    for column in ("days_past_due", "times_30plus_180d", "roll_state", "bucket", "utilisation",
                   "bureau_score", "open_dispute", "months_on_book"):
        assert column in sources
    for excluded in ("account_id", "customer_id", "snapshot_date", "currency"):
        assert excluded not in sources


def test_config_from_env():
    config = ModelConfig.from_env({"OVERDUE_MODEL_SEED": "11",
                                   "OVERDUE_MODEL_GRADE_CUTOFFS": "0.02,0.05,0.2,0.5",
                                   "OVERDUE_MODEL_AUC_MARGIN": "0.01"})
    assert (config.seed, config.grade_cutoffs, config.auc_margin) == (
        11, (0.02, 0.05, 0.2, 0.5), 0.01)
    assert ModelConfig.from_dict(config.as_dict()) == config
    with pytest.raises(ValueError):
        ModelConfig(grade_cutoffs=(0.3, 0.1, 0.2, 0.4))
