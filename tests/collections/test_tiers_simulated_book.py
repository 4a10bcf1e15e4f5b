"""The default strategy on a realistic book: a simulated book (tooling/simulator) ingested and
featured through Dagster, scored with the simulator's true roll-forward probability (a trained
model needs 35 nights of history and minutes this test cannot spend; the ranks inside a bucket
are what the tiers read), then tiered, planned and given credit-line actions for two nights.
On the last night every tier of the default strategy holds accounts, the high-risk split of each
bucket is the one recounted here with pandas from the scores alone, and at least 95% of the
early-warning flags get a treatment or a recorded reason.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.cli import run_nights
from pipelines.lib.collections import tiering
from pipelines.lib.sql import render_sql
from pipelines.lib.warehouse import offending_rows
from tests.collections.book import STRATEGY
from tests.conftest import use_home
from tooling.simulator import simulate

NIGHT = date(2026, 11, 26)
FIRST = NIGHT - timedelta(days=1)
ACCOUNTS = 5000
EARLY_WARNING_PROBABILITY = 0.05  # models/config.py's default, as the model stage flags


def truth_scores(home: Path, night: date) -> pd.DataFrame:
    """account_scores for every account of the night from the simulator's truth: probability,
    a grade on the model's cut-offs and the early-warning flag (M0 and p >= 0.05)."""
    truth = pd.read_parquet(home / "truth" / f"{night}.parquet")
    p = truth["true_roll_forward_probability"]
    early = (truth["bucket"] == "M0") & (p >= EARLY_WARNING_PROBABILITY)
    return pd.DataFrame({
        "snapshot_date": pd.to_datetime(truth["snapshot_date"]).dt.date,
        "account_id": truth["account_id"], "bucket": truth["bucket"], "days_past_due": None,
        "probability": p,
        "risk_grade": pd.cut(p, [-1, 0.01, 0.03, 0.10, 0.30, 2], right=False,
                             labels=list("ABCDE")).astype(str),
        "early_warning": early, "needs_reasons": early, "model_version": "simulator-truth"})


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    home = tmp_path_factory.mktemp("tiers_simulated")
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, home)
        simulate(home, accounts=ACCOUNTS, days=2, end_date=NIGHT, seed=29)
        run_nights(FIRST, NIGHT, ["ingest", "features"])
        conn = duckdb.connect(str(home / "warehouse.duckdb"))
        conn.execute(render_sql("model/create_account_scores"))
        for night in (FIRST, NIGHT):
            conn.append("account_scores", truth_scores(home, night), by_name=True)
        tiering.build_tiers(conn, STRATEGY, FIRST, NIGHT)
        tiering.plan_nights(conn, STRATEGY, FIRST, NIGHT)
        tiering.build_credit_line_actions(conn, STRATEGY, FIRST, NIGHT)
        tiers = conn.execute("select * from collection_tiers where snapshot_date = ?",
                             [NIGHT]).df()
        yield conn, tiers, truth_scores(home, NIGHT)
        conn.close()


def test_every_tier_and_treatment_of_the_default_strategy_is_populated(book):
    _, tiers, _ = book
    by_tier = tiers["tier"].value_counts()
    assert set(by_tier.index) == {"T0", "T1", "T2", "T3", "T4", "T5"}
    assert (by_tier > 0).all()
    treatments = set(tiers["treatment"].dropna())
    wanted = {rule.get("treatment", rule["tier"]) for rule in STRATEGY.tier_rules}
    assert treatments == {STRATEGY.treatment_names[key] for key in wanted}
    # the splits inside a bucket: M1 low and high, M2 low and high
    split = tiers[tiers["bucket"].isin(["M1", "M2"])].groupby(["bucket", "tier"]).size()
    assert split[("M1", "T1")] > split[("M1", "T2")] > 0
    assert split[("M2", "T2")] > 0 and split[("M2", "T3")] > 0


def test_high_risk_is_the_top_share_of_each_bucket_recounted(book):
    """Recounted from the scores with pandas: per bucket, sort by probability (desc) then
    account_id, keep floor(share x scored) accounts (open, frozen and charged-off accounts of
    the night, as the tiers hold them)."""
    _, tiers, scores = book
    present = scores[scores["account_id"].isin(tiers["account_id"])]
    expected = set()
    for bucket, rule in STRATEGY.high_risk.items():
        inside = present[present["bucket"] == bucket].sort_values(
            ["probability", "account_id"], ascending=[False, True])
        expected |= set(inside["account_id"].head(int(rule["top_share"] * len(inside) + 1e-9)))
    assert set(tiers.loc[tiers["high_risk"], "account_id"]) == expected
    m1 = tiers[tiers["bucket"] == "M1"]
    assert m1["high_risk"].mean() == pytest.approx(0.3, abs=1 / len(m1))


def test_at_least_95_percent_of_early_warnings_are_acted_on(book):
    conn, tiers, scores = book
    flagged = tiers[tiers["early_warning"]]
    present = scores[scores["account_id"].isin(tiers["account_id"])]
    assert len(flagged) == int(present["early_warning"].sum()) > 100
    acted = flagged["early_warning_action"].notna() & (
        (flagged["contacts_planned"] > 0) | flagged["suppression_reason"].notna()
        | flagged["channel_suppressions"].notna())
    assert acted.mean() >= 0.95
    assert offending_rows(conn, "assert_early_warnings_acted_on",
                          {"start_date": FIRST, "end_date": NIGHT}).empty
    watched = flagged[flagged["treatment"] == "early_warning_watch"]
    assert len(watched) > len(flagged) / 2  # most flags have no payment due within 7 days


def test_pre_due_reminders_only_before_the_due_date(book):
    conn, _, _ = book
    late = conn.execute(
        "select count(*) from contact_history as h inner join collection_tiers as t "
        "on t.snapshot_date = h.snapshot_date and t.account_id = h.account_id "
        "where h.source = 'plan' and h.treatment = 'early_reminder' "
        "and (t.next_due_date <= h.snapshot_date or t.next_due_date > h.snapshot_date + 7)"
    ).fetchone()[0]
    reminders = conn.execute("select count(*) from contact_history where source = 'plan' and "
                             "treatment = 'early_reminder'").fetchone()[0]
    assert (late, reminders > 0) == (0, True)


def test_credit_line_actions_remove_undrawn_limit_per_currency(book):
    conn, tiers, _ = book
    assert offending_rows(conn, "assert_credit_line_actions_never_raise_limits",
                          {"start_date": FIRST, "end_date": NIGHT}).empty
    actions = conn.execute("select * from credit_line_actions where snapshot_date = ?",
                           [NIGHT]).df()
    open_tiers = tiers[tiers["status"] == "open"]
    severe = open_tiers[open_tiers["bucket"].isin(STRATEGY.credit_line["freeze_buckets"])]
    over = open_tiers[open_tiers["balance"] > open_tiers["credit_limit"]]
    assert set(severe["account_id"]) | set(over["account_id"]) <= set(actions["account_id"])
    assert set(actions["currency"]) == {"CNY", "USD"}
    removed = actions.groupby("currency")["exposure_removed"].sum()
    undrawn = (open_tiers["credit_limit"] - open_tiers["balance"]).clip(lower=0)
    book_undrawn = undrawn.groupby(open_tiers["currency"]).sum()
    for currency in ("CNY", "USD"):
        assert 0 < removed[currency] < book_undrawn[currency]
