"""Scoring, reason codes in two languages, monitoring, PSI and the protected-attribute guard."""

from __future__ import annotations

import json
import logging
import time
from datetime import date

import numpy as np
import pandas as pd
import pytest

from models.features import (
    FEATURE_NAMES,
    SOURCE_COLUMNS,
    ProtectedAttributeError,
    assert_no_protected_attributes,
    feature_by_name,
    feature_matrix,
)
from models.monitoring import monitor
from models.psi import psi, psi_status
from models.reason_phrases import LANGUAGES, check_phrases, load_phrases, render_reason
from models.scoring import (
    REASON_COLUMNS,
    SCORE_COLUMNS,
    accounts_needing_reasons,
    contributions,
    reason_codes,
    score,
)
from models.train import train_model
from pipelines.lib.model.dataset import features_for_night, newly_matured_labels
from tests.model.conftest import CONFIG, END

log = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def tonight(book):
    return features_for_night(book.conn, END)


def test_score_gives_probability_grade_and_version(model, tonight):
    model.version = "v0042"
    try:
        scores = score(model, tonight, CONFIG)
    finally:
        model.version = None
    assert list(scores.columns) == SCORE_COLUMNS
    assert len(scores) == len(tonight)
    assert (scores["model_version"] == "v0042").all()
    written_off = (tonight["bucket"] == "WO").to_numpy()
    assert written_off.any()
    assert scores.loc[written_off, "probability"].isna().all()
    assert scores.loc[written_off, "risk_grade"].isna().all()
    scored = scores[~written_off]
    assert scored["probability"].between(0, 1).all()
    cutoffs = np.asarray(CONFIG.grade_cutoffs)
    expected = [CONFIG.grades[int(np.searchsorted(cutoffs, p, side="right"))]
                for p in scored["probability"]]
    assert scored["risk_grade"].tolist() == expected
    assert set(scored["risk_grade"]) >= {"A", "E"}


def test_reason_codes_for_the_accounts_that_need_them(model, tonight):
    scores = score(model, tonight, CONFIG)
    needing = accounts_needing_reasons(tonight, scores, CONFIG)
    overdue = set(tonight.loc[(tonight["days_past_due"] > 0) & (tonight["bucket"] != "WO"),
                              "account_id"])
    assert overdue <= set(needing) and len(needing) < len(tonight) / 2

    started = time.perf_counter()
    reasons = reason_codes(model, tonight, needing, top=3)
    elapsed = time.perf_counter() - started
    log.info("reason codes (exact): %d accounts in %.3f s, %.0f accounts/s", len(needing),
             elapsed, len(needing) / elapsed)
    assert list(reasons.columns) == REASON_COLUMNS
    assert set(reasons["account_id"]) <= set(needing)
    assert reasons.groupby("account_id")["rank"].max().max() <= 3
    assert (reasons["contribution"] > 0).all()
    ordered = reasons.sort_values(["account_id", "rank"])
    assert (ordered.groupby("account_id")["contribution"].diff().dropna() <= 0).all()
    assert set(reasons["feature"]) <= set(SOURCE_COLUMNS)
    assert reasons["reason_zh"].str.len().gt(0).all() and reasons["reason_en"].str.len().gt(0).all()
    assert not reasons["reason_en"].str.contains("[{}]").any()
    accounts = tonight.set_index("account_id")
    for reason in reasons.head(30).itertuples():
        row = accounts.loc[reason.account_id].to_dict()
        value = row[reason.feature]
        assert reason.reason_zh == render_reason(reason.feature, value, row, "zh-CN")
        assert reason.reason_en == render_reason(reason.feature, value, row, "en-US")
    overdue_reasons = reasons[reasons["account_id"].isin(overdue)]
    assert overdue_reasons["feature"].isin(
        ["days_past_due", "past_due_amount", "past_due_ratio", "days_since_delinquent",
         "max_dpd_30d", "bucket", "roll_state", "on_time_cycles"]).mean() > 0.5


def test_exact_contributions_add_up_to_the_models_log_odds(model, tonight):
    rows = tonight[tonight["bucket"] != "WO"].head(300)
    for method in ("exact", "approximate"):
        by_source = contributions(model, rows, method)
        raw = model.booster.predict(model.matrix(rows), pred_contribs=True,
                                    approx_contribs=method == "approximate")
        margin = model.booster.predict(model.matrix(rows), output_margin=True)
        np.testing.assert_allclose(by_source.sum(axis=1) + raw[:, -1], margin, atol=1e-4)
    kept_sources = [spec.source for spec in feature_by_name(model.feature_names).values()]
    assert list(by_source.columns) == list(dict.fromkeys(kept_sources))
    assert set(by_source.columns) < set(SOURCE_COLUMNS)  # the dropped features' sources left out


def test_every_reason_phrase_exists_in_both_languages():
    assert check_phrases(SOURCE_COLUMNS) == []
    assert check_phrases(["marital_status"]) == ["marital_status: no phrase"]


@pytest.mark.parametrize(("source", "value", "row", "zh", "en"), [
    ("times_30plus_180d", 2, {}, "最近180天内两次逾期超过30天",
     "twice 30+ days late in the last 180 days"),
    ("times_30plus_180d", 1, {}, "最近180天内一次逾期超过30天",
     "once 30+ days late in the last 180 days"),
    ("broken_promises_90d", 3, {}, "最近90天内三次未兑现还款承诺",
     "broke a promise to pay 3 times in the last 90 days"),
    ("utilisation", 0.853, {}, "额度使用率85%", "85% of the credit limit used"),
    ("past_due_amount", 1234.5, {"currency": "CNY"}, "逾期金额 1,234.50 CNY",
     "CNY 1,234.50 past due"),
    ("roll_state", "rolled_forward", {"bucket": "M2", "bucket_1m_ago": "M1"},
     "过去一个月逾期加重（M1→M2）", "delinquency worsened over the last month (M1 to M2)"),
    ("days_since_last_payment", None, {}, "没有还款记录", "no payment on record"),
    ("days_since_last_payment", pd.NA, {}, "没有还款记录", "no payment on record"),
    ("open_dispute", True, {}, "有尚未解决的争议", "an unresolved dispute on the account"),
    ("on_time_cycles", 0, {}, "最近30天内有逾期", "late within the last 30 days"),
])
def test_reason_phrases_render_with_the_accounts_value(source, value, row, zh, en):
    assert render_reason(source, value, row, "zh-CN") == zh
    assert render_reason(source, value, row, "en-US") == en


def test_every_template_variant_fills_from_a_real_row(tonight):
    row = tonight.iloc[0].to_dict()
    for source, entry in load_phrases().items():
        values = [row.get(source), 0, None, 1.5] + list(entry.get("cases") or {})
        for value in values:
            for language in LANGUAGES:
                text = render_reason(source, value, row, language)
                assert text and "{" not in text


def test_protected_attribute_guard_raises(split):
    for names in (["days_past_due", "sex"], ["customer_gender"], ["marital_status"],
                  ["ethnicity"], ["religion_code"], ["age"], ["age_band"], ["date_of_birth"]):
        with pytest.raises(ProtectedAttributeError):
            assert_no_protected_attributes(names)
    assert_no_protected_attributes(["utilisation_change_30d", "usage", "percentage",
                                    "mortgage_balance", "average_balance", "page_views"])
    assert_no_protected_attributes(FEATURE_NAMES)
    train, validation = split
    with pytest.raises(ProtectedAttributeError):
        train_model(train, validation, CONFIG, feature_names=["days_past_due", "customer_age"])


def test_protected_columns_in_the_input_never_reach_the_model(split, model):
    train, _ = split
    with_protected = train.head(20).assign(sex="F", customer_age=41, marital_status="married")
    matrix = feature_matrix(with_protected, model.feature_names)
    assert list(matrix.columns) == list(model.feature_names)
    assert not {"sex", "customer_age", "marital_status"} & set(matrix.columns)


def test_psi_of_identical_and_shifted_samples():
    rng = np.random.default_rng(5)
    sample = rng.normal(size=20_000)
    assert psi(sample, sample.copy()) == pytest.approx(0.0, abs=1e-12)
    assert psi(sample, rng.normal(size=20_000)) < 0.01
    shifted = psi(sample, rng.normal(loc=1.0, size=20_000))
    assert shifted > 0.25 and psi_status(shifted) == "act"
    with_gaps = np.where(rng.random(20_000) < 0.3, np.nan, sample)
    assert psi(sample, with_gaps) > 0.25  # a feature that starts arriving null has moved
    counts = rng.poisson(0.1, size=5_000).astype(float)
    assert psi(counts, counts) == pytest.approx(0.0, abs=1e-12)


def test_monitoring_report(book, model, tonight):
    last_training_night = date.fromisoformat(model.training_window["last_night"])
    matured = newly_matured_labels(book.conn, last_training_night, END, CONFIG)
    assert pd.to_datetime(matured["snapshot_date"]).min().date() > last_training_night
    report = monitor(model, tonight, matured)
    assert report["performance"]["auc"] > 0.7
    assert report["stability"]["score"]["psi"] >= 0
    names = {row["feature"] for row in report["stability"]["features"]}
    assert names == set(model.feature_names)
    buckets = {row["bucket"]: row for row in report["roll_rate_by_bucket"]}
    assert buckets["M1"]["observed_rate"] > buckets["M0"]["observed_rate"]
    assert abs(buckets["M0"]["mean_predicted"] - buckets["M0"]["observed_rate"]) < 0.02


def test_a_night_scored_in_chunks_equals_the_night_scored_whole(book, model):
    """A 10M-account night is scored and explained a chunk of features at a time: every score
    and every reason row must be the one the whole night gives."""
    from pipelines.lib.model.nightly import feature_chunks, score_nights

    chunks = [len(chunk) for chunk in feature_chunks(book.conn, END, 1)]
    assert len(chunks) >= 2 and sum(chunks) == len(features_for_night(book.conn, END))

    def tables():
        return {table: book.conn.execute(
                    f"select * exclude (model_version) from {table} order by all").fetchall()
                for table in ("account_scores", "account_reason_codes")}

    try:
        whole = score_nights(book.conn, model, CONFIG, [END], {END}, chunk_rows=10**7)
        expected = tables()
        chunked = score_nights(book.conn, model, CONFIG, [END], {END}, chunk_rows=1)
        assert tables() == expected
        assert expected["account_reason_codes"] and whole.reason_rows == chunked.reason_rows
        assert (whole.scored, whole.needing_reasons, whole.grade_counts) == (
            chunked.scored, chunked.needing_reasons, chunked.grade_counts)
    finally:
        for table in ("account_scores", "account_reason_codes"):
            book.conn.execute(f"drop table if exists {table}")


def test_an_empty_night_scores_nothing_and_keeps_the_tables_typed(book, model):
    from pipelines.lib.model.nightly import score_nights

    try:
        run = score_nights(book.conn, model, CONFIG, [date(1999, 1, 1)], {date(1999, 1, 1)})
        assert (run.rows, run.reason_rows, run.scored) == (0, 0, 0)
        assert book.conn.execute("select count(*) from account_scores").fetchone() == (0,)
    finally:
        for table in ("account_scores", "account_reason_codes"):
            book.conn.execute(f"drop table if exists {table}")


def test_stability_counted_chunk_by_chunk_equals_the_whole_night(book, model, tonight):
    from models.monitoring import stability
    from models.psi import bin_shares, psi_from_shares
    from models.scoring import in_population
    from pipelines.lib.model.nightly import feature_chunks

    whole = stability(model, tonight)
    chunked = stability(model, feature_chunks(book.conn, END, 1))
    assert json.dumps(chunked, sort_keys=True) == json.dumps(whole, sort_keys=True)  # NaN: no data
    # the score's PSI, from the whole night's shares as it was computed before chunking
    population = tonight[in_population(model, tonight)]
    reference = model.reference["score"]
    expected = psi_from_shares(np.asarray(reference["shares"]),
                               bin_shares(model.predict(population), reference["edges"]))
    assert whole["score"]["psi"] == pytest.approx(expected, rel=1e-12)
    assert whole["rows"] == len(population)
    # a shifted night is seen as shifted whichever way it is read
    shifted = tonight.assign(utilisation=tonight["utilisation"] * 3)
    chunks = [shifted.iloc[:1000], shifted.iloc[1000:]]
    by_feature = {row["feature"]: row["psi"] for row in stability(model, chunks)["features"]}
    assert json.dumps(by_feature, sort_keys=True) == json.dumps(
        {row["feature"]: row["psi"] for row in stability(model, shifted)["features"]},
        sort_keys=True)
    assert by_feature["utilisation"] > 0.25
