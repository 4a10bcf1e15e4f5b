"""Per-bucket high risk (rank shares, cut-offs, the older grades), balance rules per currency and
every early warning acted on, on hand-made books through the collections library
(tests/collections/book.py). Every expected tier, rank and contact is stated by hand.

NIGHT is 2026-05-03; an account is CNY with a 5,432.10 balance unless a case says otherwise.
"""

from datetime import date, timedelta

import pytest
import yaml

from pipelines.lib.collections import tiering
from pipelines.lib.collections.strategy import STRATEGY_PATH, StrategyError, load_strategy
from pipelines.lib.warehouse import offending_rows
from tests.collections.book import STRATEGY, customer, event, planned, snapshot, tier_row, warehouse

NIGHT = date(2026, 5, 3)
TOMORROW = NIGHT + timedelta(days=1)


def ago(days: int) -> date:
    return NIGHT - timedelta(days=days)


def score(night: date, number: int, probability: float, early: bool = False,
          grade: str = "C") -> dict:
    return {"snapshot_date": night, "account_id": f"AC{number:08d}", "probability": probability,
            "risk_grade": grade, "early_warning": early, "model_version": "gbm-test"}


def strategy_file(tmp_path, edit) -> object:
    raw = yaml.safe_load(STRATEGY_PATH.read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "collection_strategy.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_strategy(path)


def plan(conn, strategy, night: date) -> None:
    tiering.build_tiers(conn, strategy, night, night)
    tiering.plan_nights(conn, strategy, night, night)


def test_the_default_strategy_ranks_inside_each_bucket():
    """The shares the cases below are stated for."""
    assert STRATEGY.high_risk == {"M0": {"top_share": 0.05}, "M1": {"top_share": 0.3},
                                  "M2": {"top_share": 0.5}}
    assert STRATEGY.high_risk_grades == ()


# ---------------------------------------------------------------------------- rank shares
# M1: ten scored accounts and one unscored. Top 30% of 10 scored = ranks 1-3. Accounts 3 and 4
# tie at 0.7: the lower account_id ranks first, so 3 is high risk (rank 3) and 4 is not (rank 4).
M1_PROBABILITY = {1: 0.9, 2: 0.8, 3: 0.7, 4: 0.7, 5: 0.65, 6: 0.6, 7: 0.55, 8: 0.5, 9: 0.45,
                  10: 0.4}
M1_RANK = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 10: 10}
# M2 (40 days past due): four scored, top 50% = ranks 1-2 (T3), the rest T2.
M2_PROBABILITY = {21: 0.95, 22: 0.3, 23: 0.92, 24: 0.6}
M2_RANK = {21: 1, 23: 2, 24: 3, 22: 4}


@pytest.fixture(scope="module")
def ranked_book():
    numbers = [*M1_PROBABILITY, 11, *M2_PROBABILITY]
    snapshots = [snapshot(NIGHT, n, 40 if n in M2_PROBABILITY else 12) for n in numbers]
    scores = [score(NIGHT, n, p) for n, p in (M1_PROBABILITY | M2_PROBABILITY).items()]
    conn = warehouse(snapshots, [customer(n, ago(40)) for n in numbers], scores=scores)
    plan(conn, STRATEGY, NIGHT)
    yield conn
    conn.close()


def test_top_share_of_the_bucket_by_rank_with_ties_by_account(ranked_book):
    for number, rank in M1_RANK.items():
        row = tier_row(ranked_book, NIGHT, number)
        assert (row["risk_rank_in_bucket"], row["scored_in_bucket"], row["high_risk_rule"]) == \
            (rank, 10, "top_share=0.3"), number
        assert row["high_risk"] == (number in (1, 2, 3)), number
        assert row["tier"] == ("T2" if number in (1, 2, 3) else "T1"), number
    unscored = tier_row(ranked_book, NIGHT, 11)
    assert (unscored["risk_rank_in_bucket"], unscored["scored_in_bucket"], unscored["high_risk"],
            unscored["tier"]) == (None, 10, False, "T1")


def test_m2_splits_into_formal_and_early_high_by_rank(ranked_book):
    for number, rank in M2_RANK.items():
        row = tier_row(ranked_book, NIGHT, number)
        assert row["risk_rank_in_bucket"] == rank
        assert (row["tier"], row["treatment"]) == (
            ("T3", "formal_demand") if rank <= 2 else ("T2", "early_high")), number
    assert planned(ranked_book, NIGHT, 21) == [("email", "formal_demand"),
                                               ("letter", "formal_demand"),
                                               ("phone", "phone_formal")]
    assert planned(ranked_book, NIGHT, 22) == [("phone", "phone_early"), ("sms", "early_high")]


def test_a_probability_cut_off_or_grades_per_bucket(tmp_path):
    numbers = list(M1_PROBABILITY)
    grades = {n: "E" if n in (5, 9) else "B" for n in numbers}
    snapshots = [snapshot(NIGHT, n, 12) for n in numbers]
    scores = [score(NIGHT, n, p, grade=grades[n]) for n, p in M1_PROBABILITY.items()]
    conn = warehouse(snapshots, [customer(n, ago(40)) for n in numbers], scores=scores)

    cut_off = strategy_file(tmp_path, lambda r: r["high_risk"].update(
        M1={"min_probability": 0.65}))
    tiering.build_tiers(conn, cut_off, NIGHT, NIGHT)
    high = {n for n in numbers if tier_row(conn, NIGHT, n)["high_risk"]}
    assert high == {1, 2, 3, 4, 5}  # p >= 0.65, ties included
    assert tier_row(conn, NIGHT, 1)["high_risk_rule"] == "min_probability=0.65"

    older = strategy_file(tmp_path, lambda r: (r.pop("high_risk"),
                                               r.update(high_risk_grades=["D", "E"])))
    assert older.high_risk["M1"] == {"grades": ("D", "E")}
    tiering.build_tiers(conn, older, NIGHT, NIGHT)
    high = {n for n in numbers if tier_row(conn, NIGHT, n)["high_risk"]}
    assert high == {5, 9}
    assert tier_row(conn, NIGHT, 5)["high_risk_rule"] == "grades=D,E"
    conn.close()


@pytest.mark.parametrize(("edit", "message"), [
    (lambda r: r.update(high_risk_grades=["D", "E"]),
     "high_risk_grades: give high_risk (per bucket) or the older high_risk_grades"),
    (lambda r: r["high_risk"].update(M1={"top_share": 1.5}), "high_risk.M1.top_share"),
    (lambda r: r["high_risk"].update(M1={"top_share": 0.3, "min_probability": 0.2}),
     "high_risk.M1: expected one of"),
    (lambda r: r["high_risk"].update(M9={"top_share": 0.3}), "high_risk.M9: unknown bucket"),
    (lambda r: r["tiers"][3].update(max_balance=5000),
     "tiers[3].max_balance: expected one amount per currency"),
    (lambda r: r["tiers"][3].update(max_balance={"cny": 5000}),
     "expected ISO 4217 currency codes"),
    (lambda r: r["tiers"][3].update(treatment="T9_missing"),
     "tiers[3].treatment: missing: a tier rule assigns treatment 'T9_missing'"),
    (lambda r: r["treatments"]["T2_automated"].update(name="early_high"),
     "treatments.T2_automated.name: 'early_high' names another treatment too"),
    (lambda r: r["credit_line"].update(reduce_by=0.3),
     "credit_line.reduce_by: replaced by credit_line.reduce"),
    (lambda r: r["credit_line"].update(over_limit="raise"), "credit_line.over_limit"),
    (lambda r: r["credit_line"]["reduce"]["round_to"].update(USD=0), "round_to.USD"),
])
def test_an_invalid_risk_balance_or_credit_rule_names_the_key(tmp_path, edit, message):
    with pytest.raises(StrategyError) as error:
        strategy_file(tmp_path, edit)
    assert message in str(error.value)


# ---------------------------------------------------------------------------- balances
# Five high-risk M1 accounts (p 0.9) above twelve low-risk ones (p 0.1): top 30% of 17 = ranks
# 1-5. Small balance: under CNY 5,000 or USD 700; a currency the rule does not name is never small.
# number -> (currency, balance, treatment)
BALANCES = {
    1: ("CNY", 4999.99, "early_high_automated"),
    2: ("CNY", 5000.00, "early_high"),  # the bound is exclusive
    3: ("USD", 699.00, "early_high_automated"),
    4: ("USD", 4000.00, "early_high"),  # under CNY 5,000 but a USD balance: phone
    5: ("EUR", 100.00, "early_high"),  # no EUR amount in the rule
}


def test_small_balances_go_to_automated_channels_per_currency():
    fillers = range(30, 42)
    snapshots = [snapshot(NIGHT, n, 12, currency=c, balance=b, past_due_amount=200.0)
                 for n, (c, b, _) in BALANCES.items()]
    snapshots += [snapshot(NIGHT, n, 12) for n in fillers]
    scores = [score(NIGHT, n, 0.9) for n in BALANCES] + [score(NIGHT, n, 0.1) for n in fillers]
    conn = warehouse(snapshots, [customer(n, ago(40)) for n in (*BALANCES, *fillers)],
                     scores=scores)
    plan(conn, STRATEGY, NIGHT)
    for number, (_, _, treatment) in BALANCES.items():
        row = tier_row(conn, NIGHT, number)
        assert (row["tier"], row["treatment"], row["high_risk"]) == ("T2", treatment, True), \
            number
        expected = ([("email", "soft_notice"), ("sms", "early_high")]
                    if treatment == "early_high_automated"
                    else [("phone", "phone_early"), ("sms", "early_high")])
        assert planned(conn, NIGHT, number) == expected, number
    assert {tier_row(conn, NIGHT, n)["tier"] for n in fillers} == {"T1"}
    conn.close()


# ---------------------------------------------------------------------------- early warnings
# number -> (early warning, amount due, due in days, events, tonight's treatment, contacts)
EARLY = {
    1: (True, 250.0, 3, [], "early_reminder", [("email", "early_reminder"),
                                               ("sms", "early_reminder")]),
    2: (True, 250.0, 9, [], "early_warning_watch", [("review", "credit_line_review")]),
    3: (True, 0.0, 3, [], "early_warning_watch", [("review", "credit_line_review")]),
    # due tonight: a reminder would arrive on or after its due date, so the watch instead
    4: (True, 250.0, 0, [], "early_warning_watch", [("review", "credit_line_review")]),
    5: (True, 250.0, 3, [event("complaint", ago(3), 5)], "early_reminder", []),
    6: (False, 250.0, 3, [], None, []),
}


@pytest.fixture(scope="module")
def early_book():
    nights = (NIGHT, TOMORROW)
    snapshots = [snapshot(night, n, 0, amount_due=due,
                          next_due_date=NIGHT + timedelta(days=days))
                 for night in nights for n, (_, due, days, *_) in EARLY.items()]
    scores = [score(night, n, 0.2 if early else 0.01, early)
              for night in nights for n, (early, *_) in EARLY.items()]
    events = [e for *_, found, _, _ in EARLY.values() for e in found]
    conn = warehouse(snapshots, [customer(n, ago(40)) for n in EARLY], events, scores=scores)
    for night in nights:
        plan(conn, STRATEGY, night)
    yield conn
    conn.close()


def test_every_early_warning_gets_a_treatment_or_a_reason(early_book):
    for number, (early, _, _, _, treatment, contacts) in EARLY.items():
        row = tier_row(early_book, NIGHT, number)
        assert row["early_warning_action"] == treatment, number
        assert row["tier"] == ("T0" if early else None), number
        assert planned(early_book, NIGHT, number) == contacts, number
    assert tier_row(early_book, NIGHT, 5)["suppression_reason"] == "complaint"
    assert offending_rows(early_book, "assert_early_warnings_acted_on",
                          {"start_date": NIGHT, "end_date": TOMORROW}).empty


def test_the_watch_is_one_review_per_tier_entry(early_book):
    """Account 2 is still flagged tomorrow, still in T0: its review task is not made again, and
    the reason is recorded."""
    row = tier_row(early_book, TOMORROW, 2)
    assert (row["treatment"], row["contacts_planned"], row["channel_suppressions"],
            row["suppression_reason"]) == ("early_warning_watch", 0,
                                           "review=frequency_cap", "frequency_cap")
    assert planned(early_book, TOMORROW, 2) == []


def test_the_check_finds_flags_no_rule_treats(tmp_path):
    """Without the watch rule (the strategy before issue 17) accounts 2-4 lead to nothing."""
    strategy = strategy_file(tmp_path, lambda r: r.update(
        tiers=[t for t in r["tiers"] if t.get("treatment") != "T0_watch"]))
    snapshots = [snapshot(NIGHT, n, 0, amount_due=due, next_due_date=NIGHT + timedelta(days=d))
                 for n, (_, due, d, *_) in EARLY.items()]
    scores = [score(NIGHT, n, 0.2, early) for n, (early, *_) in EARLY.items()]
    conn = warehouse(snapshots, [customer(n, ago(40)) for n in EARLY], scores=scores)
    plan(conn, strategy, NIGHT)
    found = offending_rows(conn, "assert_early_warnings_acted_on",
                           {"start_date": NIGHT, "end_date": NIGHT})
    assert sorted(zip(found["account_id"], found["problem"], strict=True)) == [
        (f"AC{n:08d}", "no_treatment") for n in (2, 3, 4)]
    conn.close()
