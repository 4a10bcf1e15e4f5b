"""Discrimination inside a bucket: AUC and KS per bucket, gated, monitored, benchmarked.

Why: the overall AUC is mostly the bucket itself; collectors rank accounts inside one bucket.
Every expected figure is worked out by hand here or by a brute-force count written in this file.
"""

from __future__ import annotations

import copy
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from models.config import ModelConfig
from models.evaluate import auc, evaluate, ks_statistic
from models.registry import build_card, card_markdown, gate
from models.train import train_model
from pipelines.lib.model.nightly import auc_statuses, bucket_markdown, monitoring_rows
from tooling.bench.model import _bucket_auc_line, auc_by_bucket_against_oracle

FAST = ModelConfig(num_boost_round=20, early_stopping_rounds=5, min_child_weight=1.0,
                   subsample=1.0, colsample_bytree=1.0, nthread=1)
CONFIG = ModelConfig()  # bucket_auc_margin 0.03, judged from 300 rows and 30 of each class


def test_weighted_auc_and_ks_by_hand():
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    labels = np.array([0, 1, 0, 0, 1, 1])
    weights = np.array([1, 1, 2, 1, 1, 2.0])
    # positives' weight 1 at 0.2, 1 at 0.5, 2 at 0.6 (4); negatives' 1 at 0.1, 2 at 0.3, 1 at 0.4
    # CDF gap after 0.4: positives 1/4, negatives 4/4 -> KS 0.75
    assert ks_statistic(labels, scores, weights) == pytest.approx(0.75)
    # weighted pairs won: 0.2 beats 0.1 (1x1), 0.5 beats all (1x4), 0.6 beats all (2x4) = 13 / 16
    assert auc(labels, scores, weights) == pytest.approx(13 / 16)
    assert math.isnan(ks_statistic(np.ones(3), np.array([0.1, 0.2, 0.3])))


def hand_frame(night: date, rows: int = 96) -> pd.DataFrame:
    """Three buckets; risk grows with utilisation and days past due, with label noise; M2 rows
    all roll forward (one class)."""
    rng = np.random.default_rng(night.toordinal())
    dpd = np.tile([0, 0, 0, 0, 10, 20, 25, 45], rows // 8)
    utilisation = rng.uniform(0, 1, rows)
    label = (rng.uniform(0, 1, rows) < 0.2 + 0.6 * utilisation * (dpd > 0)).astype(int)
    label[dpd > 30] = 1
    return pd.DataFrame({
        "snapshot_date": night, "account_id": [f"A{i:03d}" for i in range(rows)],
        "bucket": np.where(dpd == 0, "M0", np.where(dpd <= 30, "M1", "M2")),
        "days_past_due": dpd.astype(float), "utilisation": utilisation, "status": "open",
        "label": label, "weight": np.where(dpd == 0, 2.0, 1.0)})


@pytest.fixture(scope="module")
def trained():
    train = hand_frame(date(2025, 3, 1))
    validation = hand_frame(date(2025, 3, 8))
    model = train_model(train, validation, FAST, feature_names=["days_past_due", "utilisation"])
    return model, validation


def brute_force_ks(labels, scores, weights) -> float:
    """The largest gap between the weighted positive and negative CDFs, threshold by threshold."""
    positive, negative = weights[labels == 1].sum(), weights[labels == 0].sum()
    return max(abs(weights[(labels == 1) & (scores <= t)].sum() / positive
                   - weights[(labels == 0) & (scores <= t)].sum() / negative)
               for t in np.unique(scores))


def brute_force_auc(labels, scores, weights) -> float:
    won = sum(wp * wn * ((p > n) + 0.5 * (p == n))
              for p, wp in zip(scores[labels == 1], weights[labels == 1])
              for n, wn in zip(scores[labels == 0], weights[labels == 0]))
    return won / (weights[labels == 1].sum() * weights[labels == 0].sum())


def test_each_bucket_row_has_its_auc_ks_and_class_counts(trained):
    model, validation = trained
    scores = model.predict(validation)
    by_bucket = {row["bucket"]: row for row in evaluate(model, validation)["calibration_by_bucket"]}
    assert list(by_bucket) == ["M0", "M1", "M2"]
    for bucket, rows in validation.groupby("bucket"):
        y, w, s = rows["label"].to_numpy(), rows["weight"].to_numpy(), scores[rows.index]
        row = by_bucket[bucket]
        assert (row["rows"], row["positives"], row["negatives"]) == (
            len(rows), int((y == 1).sum()), int((y == 0).sum()))
        if bucket == "M2":
            assert row["negatives"] == 0 and math.isnan(row["auc"]) and math.isnan(row["ks"])
            continue
        assert row["ks"] == pytest.approx(brute_force_ks(y, s, w))
        assert row["auc"] == pytest.approx(brute_force_auc(y, s, w))


def test_the_card_shows_auc_and_ks_per_bucket_beside_the_overall(trained):
    model, validation = trained
    metrics = evaluate(model, validation)
    text = card_markdown(build_card(model, metrics, FAST, code={"commit": "t", "dirty": False}))
    table = text[text.index("### Discrimination and calibration by bucket"):]
    assert "| bucket | rows | positives | AUC | KS | mean predicted | observed |" in table
    assert (f"| all | 96 | {int(validation['label'].sum())} | {metrics['auc']:.4f} | "
            f"{metrics['ks']:.4f} |") in table
    counts = validation.groupby("bucket")["label"].agg(["size", "sum"])
    assert counts["size"].tolist() == [48, 36, 12]
    for row in metrics["calibration_by_bucket"]:
        ks = "n/a" if math.isnan(row["ks"]) else f"{row['ks']:.4f}"
        area = "n/a" if math.isnan(row["auc"]) else f"{row['auc']:.4f}"
        size, positives = counts.loc[row["bucket"]]
        assert f"| {row['bucket']} | {size} | {positives} | {area} | {ks} |" in table
    assert "| M2 | 12 | 12 | n/a | n/a |" in table


# ---------------------------------------------------------------- gate

def metrics_of(overall_auc: float, buckets: dict[str, tuple[int, int, float]]) -> dict:
    """Metrics as models.evaluate.evaluate gives them: calibrated everywhere, one window;
    `buckets` = {bucket: (rows, positives, AUC)}."""
    rows = [{"bucket": b, "rows": n, "weight": float(n), "positives": p, "negatives": n - p,
             "mean_predicted": p / n, "observed_rate": p / n, "difference": 0.0, "auc": area,
             "ks": 0.5} for b, (n, p, area) in buckets.items()]
    return {"window": {"first_night": "2025-05-01", "last_night": "2025-05-29", "nights": 5,
                       "rows": sum(n for n, _, _ in buckets.values())},
            "auc": overall_auc, "gini": 2 * overall_auc - 1, "ks": 0.7, "brier": 0.05,
            "observed_rate": 0.1, "mean_predicted": 0.1, "calibration_by_bucket": rows}


CHAMPION = metrics_of(0.93, {"M0": (5000, 250, 0.83), "M1": (1500, 600, 0.66),
                             "M3": (400, 200, 0.60), "M5": (120, 90, 0.70)})


def test_a_challenger_better_overall_but_worse_in_m1_beyond_the_margin_is_refused():
    # M1's allowance by hand: Hanley-McNeil at A = 0.66, 600 positives, 900 negatives:
    # Q1 = 0.66/1.34 = 0.49254, Q2 = 2(0.4356)/1.66 = 0.52482, SE = sqrt((0.2244 + 599(0.05694)
    # + 899(0.08922)) / 540000) = 0.0146; allowance 0.03 + 2 x 0.0146 = 0.0591, floor 0.6009
    challenger = metrics_of(0.95, {"M0": (5000, 250, 0.85), "M1": (1500, 600, 0.59),
                                   "M3": (400, 200, 0.61), "M5": (120, 90, 0.70)})
    decision = gate(challenger, CHAMPION, CONFIG)
    assert not decision.promote
    assert ("bucket M1 AUC 0.5900 < champion 0.6600 - allowance 0.0591 (margin 0.03 + 2.0 "
            "standard errors; 1500 rows, 600 positives, 900 negatives)") in decision.reasons
    # every bucket's verdict, passed or failed, is a reason of its own
    assert any(r.startswith("bucket M0 AUC 0.8500 >= champion 0.8300 - allowance ")
               for r in decision.reasons)
    # 0.62 is within M1's allowance (0.6009): sampling noise, not a worse model
    noisy = metrics_of(0.95, {"M0": (5000, 250, 0.85), "M1": (1500, 600, 0.62),
                              "M3": (400, 200, 0.61), "M5": (120, 90, 0.70)})
    assert gate(noisy, CHAMPION, CONFIG).promote
    assert [r.split()[1] for r in decision.reasons if r.startswith("bucket ") and " AUC " in r] \
        == ["M0", "M1", "M3", "M5"]
    # the same challenger passes when an operator widens the margin (OVERDUE_MODEL_...)
    wide = ModelConfig.from_env({"OVERDUE_MODEL_BUCKET_AUC_MARGIN": "0.05"})
    assert wide.bucket_auc_margin == 0.05  # floor 0.66 - 0.0791 = 0.5809
    assert gate(challenger, CHAMPION, wide).promote


def test_a_challenger_within_the_margin_in_every_bucket_passes():
    challenger = metrics_of(0.93, {"M0": (5000, 250, 0.81), "M1": (1500, 600, 0.635),
                                   "M3": (400, 200, 0.575), "M5": (120, 90, 0.70)})
    decision = gate(challenger, CHAMPION, CONFIG)
    assert decision.promote, decision.reasons
    assert any(r.startswith("bucket M1 AUC 0.6350 >= champion 0.6600") for r in decision.reasons)


def test_a_thin_bucket_is_not_judged():
    # M5: 120 rows (< 300); M3: 400 rows but only 20 negatives (< 30): far worse, yet not judged
    champion = copy.deepcopy(CHAMPION)
    champion["calibration_by_bucket"][2].update(positives=380, negatives=20)
    challenger = metrics_of(0.93, {"M0": (5000, 250, 0.83), "M1": (1500, 600, 0.66),
                                   "M3": (400, 380, 0.40), "M5": (120, 90, 0.30)})
    decision = gate(challenger, champion, CONFIG)
    assert decision.promote, decision.reasons
    assert "bucket M5 AUC 0.3000 not judged: 120 rows < 300" in decision.reasons
    assert ("bucket M3 AUC 0.4000 not judged: 380 positive, 20 negative rows: fewer than 30 of "
            "a class") in decision.reasons
    # one row more than the floor and enough of each class: judged and refused
    judged = metrics_of(0.93, {"M0": (5000, 250, 0.83), "M1": (1500, 600, 0.66),
                               "M3": (400, 200, 0.60), "M5": (300, 90, 0.30)})
    assert not gate(judged, CHAMPION, CONFIG).promote


def test_a_bucket_is_judged_on_its_accounts_not_its_nightly_rows():
    """Delinquent accounts are observed every night: 700 rows of 100 accounts are 100 pieces of
    evidence, too few to refuse a model on; 350 accounts are judged."""
    challenger = metrics_of(0.93, {"M0": (5000, 250, 0.83), "M1": (1500, 600, 0.66),
                                   "M3": (400, 200, 0.30), "M5": (120, 90, 0.70)})
    challenger["calibration_by_bucket"][2].update(rows=700, positives=350, negatives=350)
    challenger["calibration_by_bucket"][2].update(accounts=100, positive_accounts=60,
                                                  negative_accounts=55)
    decision = gate(challenger, CHAMPION, CONFIG)
    assert decision.promote, decision.reasons
    assert "bucket M3 AUC 0.3000 not judged: 100 accounts < 300" in decision.reasons
    challenger["calibration_by_bucket"][2].update(accounts=350, positive_accounts=200,
                                                  negative_accounts=180)
    assert not gate(challenger, CHAMPION, CONFIG).promote


def test_with_no_champion_bucket_aucs_are_recorded_and_a_weak_one_warned():
    first = metrics_of(0.93, {"M0": (5000, 250, 0.83), "M1": (1500, 600, 0.60),
                              "M3": (400, 200, 0.51), "M5": (120, 90, float("nan"))})
    decision = gate(first, None, CONFIG)
    assert decision.promote, decision.reasons
    assert ("bucket M1 AUC 0.6000 >= 0.55 (1500 rows, 600 positives, 900 negatives)"
            in decision.reasons)
    assert ("warning: bucket M3 AUC 0.5100 < 0.55 (400 rows, 200 positives, 200 negatives)"
            in decision.reasons)
    assert "bucket M5 AUC n/a not judged: 120 rows < 300" in decision.reasons


# ---------------------------------------------------------------- monitoring

def test_monitoring_alerts_when_a_bucket_auc_falls_beyond_the_margin(trained):
    model, _ = trained
    model.version = "v0007"
    window = {"first_night": "2025-06-01", "last_night": "2025-06-29", "nights": 5, "rows": 2300,
              "positives": 870}
    card = {"metrics": {"validation": {"auc": 0.93, "calibration_by_bucket": [
        {"bucket": "M0", "auc": 0.83}, {"bucket": "M1", "auc": 0.66},
        {"bucket": "M3", "auc": 0.70}]}}}

    def bucket(name, rows, positives, area, ks):
        return {"bucket": name, "rows": rows, "positives": positives,
                "negatives": rows - positives, "mean_predicted": positives / rows,
                "observed_rate": positives / rows, "difference": 0.0, "auc": area, "ks": ks}
    report = {
        "stability": {"score": {"psi": 0.02, "status": "stable"}, "features": []},
        "performance": {"window": window, "auc": 0.92, "gini": 0.84, "ks": 0.71, "brier": 0.05,
                        "observed_rate": 0.378, "mean_predicted": 0.378},
        "roll_rate_by_bucket": [bucket("M0", 1500, 200, 0.81, 0.48),    # 0.02 below: ok
                                bucket("M1", 600, 500, 0.55, 0.21),     # 0.11 below: alert
                                bucket("M3", 200, 170, 0.40, 0.10)],    # 200 rows: not judged
    }
    rows = monitoring_rows(report, date(2025, 7, 1), model, card, CONFIG)
    table = {(r.measure, r.subject): (r.value, None if pd.isna(r.status) else r.status)
             for r in rows.itertuples()}
    assert table[("auc_in_bucket", "M0")] == (0.81, "ok")
    assert table[("auc_in_bucket", "M1")] == (0.55, "alert")  # allowance 0.0847 (500 / 100)
    assert table[("auc_in_bucket", "M3")] == (0.40, None)
    assert table[("ks_in_bucket", "M1")] == (0.21, None)
    assert table[("positives", "M1")] == (500, None) and table[("negatives", "M1")] == (100, None)
    assert table[("positives", "matured")] == (870, None)
    assert auc_statuses(rows) == {"matured": "ok", "M0": "ok", "M1": "alert", "M3": None}
    lines = bucket_markdown(rows).splitlines()
    assert lines[2] == "| all | 2,300 | 870 | 0.9200 | ok | 0.7100 | 0.3780 | 0.3780 |  |"
    assert lines[4] == "| M1 | 600 | 500 | 0.5500 | alert | 0.2100 | 0.8333 | 0.8333 | ok |"
    assert lines[5].startswith("| M3 | 200 | 170 | 0.4000 | not judged | 0.1000 |")


# ---------------------------------------------------------------- bench

def test_bucket_auc_against_the_oracle_on_the_same_rows():
    frame = pd.DataFrame([
        # bucket, label, model, truth, weight
        ("M0", 0, 0.10, 0.10, 1), ("M0", 0, 0.30, 0.20, 1), ("M0", 1, 0.35, 0.30, 1),
        ("M0", 1, 0.40, 0.40, 1),
        ("M1", 1, 0.90, 0.80, 2), ("M1", 0, 0.50, 0.40, 1), ("M1", 1, 0.60, 0.65, 1),
        ("M1", 0, 0.70, 0.60, 1), ("M1", 0, 0.99, np.nan, 1),  # no truth: out of both AUCs
        ("M2", 1, 0.50, 0.50, 1), ("M2", 1, 0.60, 0.60, 1),
        ("M4", 1, 0.20, 0.70, 1), ("M4", 0, 0.80, 0.10, 1),
    ], columns=["bucket", "label", "model", "truth", "weight"])
    rows = {row["bucket"]: row for row in auc_by_bucket_against_oracle(
        frame["bucket"].to_numpy(), frame["label"].to_numpy(float), frame["model"].to_numpy(),
        frame["truth"].to_numpy(), frame["weight"].to_numpy(float))}
    assert list(rows) == ["M0", "M1", "M2", "M4"]
    assert rows["M0"] | {} == {"bucket": "M0", "rows": 4, "positives": 2, "auc": 1.0,
                               "oracle_auc": 1.0, "auc_over_oracle": 1.0, "target": 0.9,
                               "ok": True}
    # model: 0.90 (weight 2) beats 0.50 and 0.70 -> 4; 0.60 beats 0.50 -> 1; of 3 x 2 = 6
    # oracle: 0.80 beats both -> 4; 0.65 beats both -> 2; 6 / 6
    assert rows["M1"]["rows"] == 4
    assert rows["M1"]["auc"] == pytest.approx(0.8333) and rows["M1"]["oracle_auc"] == 1.0
    assert rows["M1"]["auc_over_oracle"] == pytest.approx(0.8333) and rows["M1"]["ok"] is False
    assert rows["M2"]["auc"] is None and rows["M2"]["ok"] is None  # one class only
    assert rows["M4"]["auc_over_oracle"] == 0.0 and rows["M4"]["target"] is None
    assert rows["M4"]["ok"] is None  # no target beyond M3

    def verdict(ok):
        return "ok" if ok else "MISSED"
    assert _bucket_auc_line(rows["M1"], verdict) == (
        "    M1: AUC 0.8333 vs oracle 1.0000 = 0.833 (4 rows, 2 positives; MISSED)")
    assert _bucket_auc_line(rows["M4"], verdict).endswith("; no target)")
    assert _bucket_auc_line(rows["M2"], verdict).endswith("; MISSED (no AUC))")


def test_the_bench_prints_each_bucket_beside_the_overall_ratio():
    from tooling.bench.model import report

    sim = {"accounts": 20_000, "days": 180, "validation_rows": 50_000,
           "validation_window": {"first_night": "2026-04-05", "last_night": "2026-04-26"},
           "auc": 0.947, "oracle_auc": 0.97, "auc_over_oracle": 0.9763, "ks": 0.8,
           "calibration_by_bucket": [], "buckets_within_10pct": [], "buckets_outside_10pct": [],
           "auc_by_bucket": [
               {"bucket": "M0", "rows": 40_000, "positives": 900, "auc": 0.83,
                "oracle_auc": 0.91, "auc_over_oracle": 0.9121, "target": 0.9, "ok": True},
               {"bucket": "M1", "rows": 4_000, "positives": 1_500, "auc": 0.60,
                "oracle_auc": 0.72, "auc_over_oracle": 0.8333, "target": 0.9, "ok": False}],
           "held_out_window": {"first_night": "2026-04-27", "last_night": "2026-05-01",
                               "rows": 9_000},
           "held_out_auc_by_bucket": [
               {"bucket": "M1", "rows": 3_000, "positives": 1_400, "auc": 0.58,
                "oracle_auc": 0.70, "auc_over_oracle": 0.8286, "target": 0.9, "ok": False}]}
    speed = {"rows": 1_000_000, "retrain_seconds": 30.0, "retrain_trees": 90,
             "raw_xgboost_train_seconds": 20.0, "retrain_over_raw": 1.5,
             "score_rows_per_second": 400_000, "raw_predict_rows_per_second": 500_000,
             "score_over_raw": 1.2, "reason_accounts": 90_000, "reason_share_of_book": 0.09,
             "reason_method": "exact", "reason_seconds": 10.0, "raw_contributions_seconds": 8.0,
             "reasons_over_raw": 1.25, "peak_rss_mb": 3000}
    taiwan = {"test_rows": 6000, "auc": 0.786, "gini": 0.572, "ks": 0.43}
    lines = report({"simulated_book": sim, "taiwan_2005": taiwan, "speed": speed,
                    "model_card": "card.md"}).splitlines()
    overall = next(i for i, line in enumerate(lines) if line.startswith("  AUC 0.9470"))
    assert lines[overall + 1] == ("  AUC inside each bucket, model vs oracle on the same rows "
                                  "(target >= 0.9x in M0, M1, M2, M3):")
    assert lines[overall + 2] == ("    M0: AUC 0.8300 vs oracle 0.9100 = 0.912 (40,000 rows, "
                                  "900 positives; ok)")
    assert lines[overall + 3].endswith("= 0.833 (4,000 rows, 1,500 positives; MISSED)")
    assert lines[overall + 4].startswith("  the same window held out: 2026-04-27..2026-05-01")
    assert lines[overall + 5] == ("    M1: AUC 0.5800 vs oracle 0.7000 = 0.829 (3,000 rows, "
                                  "1,400 positives; MISSED)")
