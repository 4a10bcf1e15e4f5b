"""Tiers, suppressions, caps and cadence, scores and credit-line actions on hand-made books in a
real DuckDB warehouse, night by night through the collections library (tests/collections/book.py).

NIGHT is 2026-05-03. Unless a case says otherwise an account is M1 (12 days past due, 250.00 past
due): tier T1, whose treatment is an SMS and an e-mail every 7 nights.
"""

from collections import Counter, defaultdict
from datetime import date, timedelta
from itertools import pairwise

import pytest

from tests.collections.book import (
    STRATEGY,
    customer,
    event,
    planned,
    run_night,
    snapshot,
    tier_row,
    warehouse,
)

NIGHT = date(2026, 5, 3)
YESTERDAY = NIGHT - timedelta(days=1)


def ago(days: int) -> date:
    return NIGHT - timedelta(days=days)


# account number -> (reason expected tonight, events of that account's customer)
SUPPRESSED = {
    1: ("deceased", [event("deceased", ago(100), 1, account=False)]),
    2: ("bankruptcy", [event("bankruptcy", ago(10), 2, account=False)]),
    3: ("do_not_contact", [event("do_not_contact", ago(1), 3, account=False)]),
    4: ("open_dispute", [event("dispute_opened", ago(5), 4)]),
    5: ("complaint", [event("complaint", ago(3), 5)]),
    6: ("promise_to_pay", [event("promise_to_pay", ago(2), 6, until=NIGHT + timedelta(days=5))]),
    7: ("paid_to_current", []),  # M1 yesterday, current tonight (and T0 by its score)
    8: ("opt_out", [event("opt_out", ago(20), 8, account=False)]),  # every channel
    9: ("frequency_cap", []),  # T1 yesterday too: its SMS and e-mail went out then
}
# accounts whose events no longer hold them back: contacted tonight
NOT_SUPPRESSED = {
    20: [event("dispute_opened", ago(30), 20), event("dispute_closed", ago(4), 20)],
    21: [event("complaint", ago(20), 21)],  # outside the 14-night look-back
    22: [event("promise_to_pay", ago(9), 22, until=ago(2))],  # broken promise
    23: [event("deceased", ago(5), 99, account=False)],  # another customer's
}


@pytest.fixture(scope="module")
def suppression_book():
    numbers = [*SUPPRESSED, *NOT_SUPPRESSED, 30]
    tonight = [snapshot(NIGHT, n, 0 if n == 7 else 12, next_due_date=NIGHT + timedelta(days=3))
               for n in numbers]
    before = [snapshot(YESTERDAY, n, 11 if n in (7, 9) else 0) for n in numbers]
    events = [e for _, found in SUPPRESSED.values() for e in found]
    events += [e for found in NOT_SUPPRESSED.values() for e in found]
    events.append(event("opt_out", ago(3), 30, account=False, channel="sms"))
    scores = [{"snapshot_date": NIGHT, "account_id": "AC00000007", "probability": 0.4,
               "risk_grade": "E", "early_warning": True, "model_version": "m1"}]
    conn = warehouse(before + tonight, [customer(n, ago(40)) for n in (*numbers, 99)], events,
                     scores=scores)
    run_night(conn, YESTERDAY)
    run_night(conn, NIGHT)
    yield conn
    conn.close()


@pytest.mark.parametrize("number", sorted(SUPPRESSED))
def test_each_suppression_reason_holds_every_contact(suppression_book, number):
    reason, _ = SUPPRESSED[number]
    row = tier_row(suppression_book, NIGHT, number)
    assert row["tier"] == ("T0" if reason == "paid_to_current" else "T1")
    assert row["suppression_reason"] == reason
    assert row["contacts_planned"] == 0
    assert planned(suppression_book, NIGHT, number) == []


def test_a_suppression_that_no_longer_applies_lets_the_contacts_go(suppression_book):
    for number in NOT_SUPPRESSED:
        row = tier_row(suppression_book, NIGHT, number)
        assert (row["tier"], row["suppression_reason"], row["contacts_planned"]) == \
            ("T1", None, 2), number
        assert planned(suppression_book, NIGHT, number) == [("email", "soft_notice"),
                                                            ("sms", "soft_notice")]


def test_an_opt_out_on_one_channel_holds_only_that_channel(suppression_book):
    row = tier_row(suppression_book, NIGHT, 30)
    assert row["channel_suppressions"] == "sms=opt_out"
    assert row["suppression_reason"] is None and row["contacts_planned"] == 1
    assert planned(suppression_book, NIGHT, 30) == [("email", "soft_notice")]


def test_frequency_cap_counts_from_the_contact_history(suppression_book):
    assert planned(suppression_book, YESTERDAY, 9) == [("email", "soft_notice"),
                                                       ("sms", "soft_notice")]
    assert tier_row(suppression_book, NIGHT, 9)["channel_suppressions"] == \
        "sms=frequency_cap,email=frequency_cap"


# ---------------------------------------------------------------------------- scores
# number -> (bucket dpd, score (grade, early warning) or None, amount due, due in days, tier)
SCORED = {
    1: (0, ("E", True), 250.0, 5, "T0"),
    2: (0, ("E", True), 250.0, 9, "T0"),  # due too late for a reminder: the watch
    3: (0, ("E", True), 0.0, 3, "T0"),  # nothing due: the watch
    4: (0, ("E", False), 250.0, 3, None),  # high grade but no early warning
    # M1's high risk is its riskiest 30%: of 2 scored accounts (0.3 x 2 = 0.6) none
    5: (12, ("E", False), 250.0, 3, "T1"),
    6: (12, ("B", False), 250.0, 3, "T1"),
    7: (12, None, 250.0, 3, "T1"),  # unscored: the bucket alone
    8: (40, ("D", False), 250.0, 3, "T3"),
    9: (40, ("A", False), 250.0, 3, "T2"),
    10: (75, ("A", False), 250.0, 3, "T3"),
}


def score(night: date, number: int, grade: str, early: bool, probability: float = 0.3) -> dict:
    return {"snapshot_date": night, "account_id": f"AC{number:08d}",
            "probability": probability, "risk_grade": grade, "early_warning": early,
            "model_version": "gbm-2026.05"}


@pytest.fixture(scope="module")
def scored_book(tmp_path_factory):
    snapshots = [snapshot(NIGHT, n, dpd, amount_due=due,
                          next_due_date=NIGHT + timedelta(days=days))
                 for n, (dpd, _, due, days, _) in SCORED.items()]
    scores = [score(NIGHT, n, *s) for n, (_, s, *_) in SCORED.items() if s]
    conn = warehouse(snapshots, [customer(n, ago(40)) for n in SCORED], scores=scores,
                     reasons=[])
    out = tmp_path_factory.mktemp("letters")
    summary = run_night(conn, NIGHT, out)
    yield conn, summary
    conn.close()


def test_tiers_use_the_scores_when_present(scored_book):
    conn, _ = scored_book
    for number, (*_, tier) in SCORED.items():
        row = tier_row(conn, NIGHT, number)
        assert row["tier"] == tier, number
        grade = SCORED[number][1]
        assert row["risk_grade"] == (grade[0] if grade else None)
        assert row["model_version"] == ("gbm-2026.05" if grade else None)
        # M2's riskiest 50% of its 2 scored accounts: one, the tie going to account 8
        assert row["high_risk"] == (number == 8), number


def test_early_warning_account_gets_its_reminder_before_the_due_date(scored_book):
    conn, summary = scored_book
    assert planned(conn, NIGHT, 1) == [("email", "early_reminder"), ("sms", "early_reminder")]
    assert planned(conn, NIGHT, 2) == [("review", "credit_line_review")]
    assert planned(conn, NIGHT, 8)[0] == ("email", "formal_demand")
    sms = (summary.folder / "sms.jsonl").read_text(encoding="utf-8")
    assert "本期应还¥250.00，还款日2026年5月8日" in sms
    assert summary.held == 0


# credit-line actions: tests/collections/test_tiers_credit_lines.py


# ---------------------------------------------------------------------------- a month
MONTH = [date(2026, 4, 1) + timedelta(days=i) for i in range(30)]


def month_book() -> tuple[list[dict], list[dict]]:
    """Customers 1-4 hold three accounts each (so the debtor caps bind), 5-10 one each. Accounts
    age a day per night from staggered starts; some pay to current mid-month and relapse."""
    holders = {n: (n - 1) // 3 + 1 for n in range(1, 13)} | {n: n - 8 for n in range(13, 19)}
    starts = {n: (n * 7) % 50 for n in holders}
    snapshots = []
    for n, holder in holders.items():
        for day, night in enumerate(MONTH):
            dpd = starts[n] + day if starts[n] else (day - 3 if day > 3 else 0)
            if n % 4 == 0 and 10 <= day < 14:
                dpd = 0  # paid to current for four nights, then relapses at its old age
            elif n % 4 == 0 and day >= 14:
                dpd = max(0, starts[n] + day - 14)
            snapshots.append(snapshot(night, n, dpd, customer=holder,
                                      past_due_amount=100.0 + n if dpd else 0.0))
    customers = [customer(c, MONTH[0] - timedelta(days=1)) for c in range(1, 11)]
    return snapshots, customers


def test_caps_and_cadence_hold_over_a_month(tmp_path):
    snapshots, customers = month_book()
    conn = warehouse(snapshots, customers)
    held = Counter()
    for night in MONTH:
        summary = run_night(conn, night, tmp_path / "letters")
        held.update(summary.held_by_rule)
    rows = conn.execute(
        "select snapshot_date, account_id, customer_id, treatment, tier_since, channel, status "
        "from contact_history where source = 'plan' order by snapshot_date").fetchall()
    released = [r for r in rows if r[6] == "planned"]
    assert {r[6] for r in rows} <= {"planned", "held"}
    # something went out every night but on a night every debtor with a call rests (call_rest)
    # and their messages are capped: at most one such night
    quiet = set(MONTH) - {r[0] for r in released}
    resting = {r[0] for r in conn.execute(
        "select distinct snapshot_date from collection_tiers "
        "where channel_suppressions like '%call_rest%'").fetchall()}
    assert len(quiet) <= 1 and quiet <= resting

    caps = STRATEGY.jurisdiction("CN").message_caps
    per_debtor = defaultdict(list)
    for night, _, customer_id, _, _, channel, _ in released:
        per_debtor[(customer_id, channel)].append(night)
    for (customer_id, channel), nights in per_debtor.items():
        if channel in caps:
            most, window = caps[channel]
            for night in nights:
                in_window = [n for n in nights if night <= n < night + timedelta(days=window)]
                assert len(in_window) <= most, (customer_id, channel, night)
        if channel == "phone":
            assert max(Counter(nights).values()) == 1, customer_id  # one call task a night

    every = {(c.treatment, c.channel): c for c in STRATEGY.contacts}
    per_account = defaultdict(list)
    for night, account, _, treatment, since, channel, _ in released:
        per_account[(account, treatment, channel)].append((night, since))
    for (account, treatment, channel), sent in per_account.items():
        rule = every[(treatment, channel)]
        if rule.once_per_tier_entry:
            entries = [since for _, since in sent]
            assert len(entries) == len(set(entries)), (account, channel)
        else:
            gaps = [(b - a).days for (a, _), (b, _) in pairwise(sent)]
            assert all(gap >= rule.every_days for gap in gaps), (account, channel, gaps)
    # the caps really bound: the debtors with three delinquent accounts had messages held
    assert held["contact_cap"] > 0
    assert {r[2] for r in released} >= {f"CU{c:07d}" for c in range(1, 11)} - {"CU0000001"}
    conn.close()
