"""Account features on tiny hand-made books: every expected value is worked out by hand.

Snapshots are written as days before the night (`ago`), so each case states only what matters; the
defaults are a current revolving account of customer C1 (limit 1000, balance 400, 50 due).
NIGHT is Thursday 20 June 2024: one month earlier is 20 May (ago 31), 30 days ago is 21 May
(ago 30), 90 days ago is 22 March (ago 90), and the 180-day window starts 24 December 2023
(ago 179).
"""

import itertools
import random
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from pipelines.lib.features.account_features import (
    ACCOUNT_FEATURES_SQL,
    account_features,
    feature_dictionary,
)
from pipelines.lib.ingest.load import ensure_warehouse
from pipelines.lib.sql import render_sql

NIGHT = date(2024, 6, 20)


def ago(days: int, night: date = NIGHT) -> date:
    return night - timedelta(days=days)


def snap(days_ago: int = 0, account: str = "A1", *, on: date | None = None, dpd: int = 0,
         **values) -> dict:
    """One snapshot `days_ago` days before NIGHT (or `on` a date); past due follows the DPD."""
    row = {
        "snapshot_date": on or ago(days_ago), "account_id": account, "customer_id": "C1",
        "product": "revolving", "open_date": date(2020, 1, 15), "status": "open",
        "currency": "CNY", "credit_limit": 1000.0, "balance": 400.0, "amount_due": 50.0,
        "past_due_amount": 40.0 if dpd else 0.0, "days_past_due": dpd, "next_due_date": None,
        "payment_amount": 0.0, "last_payment_date": None,
    }
    row.update(values)
    return row


_event_ids = itertools.count(1)


def event(kind: str, landed_ago: int, account: str | None = "A1", *, customer: str = "C1",
          at: datetime | None = None, amount: float | None = None,
          until_ago: int | None = None) -> dict:
    """A contact event carried by the file of the night `landed_ago` days before NIGHT."""
    night = ago(landed_ago)
    return {
        "landing_date": night, "event_id": f"E{next(_event_ids)}",
        "event_time": at or datetime.combine(night, datetime.min.time(), UTC) + timedelta(hours=9),
        "customer_id": customer, "account_id": account, "event_type": kind, "channel": None,
        "amount": amount, "until_date": None if until_ago is None else ago(until_ago),
    }


def macro(month: date, rate: float, cpi: float, landed: date, region: str | None = None) -> dict:
    return {"landing_date": landed, "month": month, "region": region,
            "unemployment_rate": rate, "cpi_yoy": cpi}


def score(score_date: date, value: int, landed: date, customer: str = "C1",
          bureau: str = "PBOC") -> dict:
    return {"landing_date": landed, "customer_id": customer, "score_date": score_date,
            "bureau_score": value, "bureau": bureau}


def insert(conn, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    staged = pa.Table.from_pylist(
        [row | {"source_file": "test", "source_row": i} for i, row in enumerate(rows, 1)])
    conn.append(table, staged.to_pandas(), by_name=True)


def book(snapshots, events=(), macros=(), scores=()) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    ensure_warehouse(conn)
    insert(conn, "account_snapshots", list(snapshots))
    insert(conn, "contact_events", list(events))
    insert(conn, "macro_indicators", list(macros))
    insert(conn, "bureau_scores", list(scores))
    return conn


def features(conn, start: date = NIGHT, end: date | None = None) -> dict[tuple, dict]:
    rows = account_features(conn, start, end or start).to_pylist()
    return {(row["snapshot_date"], row["account_id"]): row for row in rows}


def assert_features(row: dict, expected: dict) -> None:
    for column, value in expected.items():
        actual = row[column]
        if isinstance(value, float):
            assert actual is not None and float(actual) == pytest.approx(value, abs=1e-9), column
        else:
            assert actual == value, f"{column}: {actual!r} != {value!r}"


# (case, snapshots, expected features of A1 on NIGHT)
SNAPSHOT_CASES = [
    ("new account: one snapshot, nothing to look back on",
     [snap(0, open_date=NIGHT, balance=0.0, amount_due=0.0)],
     {"bucket": "M0", "utilisation": 0.0, "past_due_ratio": 0.0, "payment_ratio": None,
      "max_dpd_30d": 0, "max_dpd_90d": 0, "max_dpd_180d": 0, "times_30plus_180d": 0,
      "times_60plus_180d": 0, "days_since_delinquent": None, "on_time_cycles": 0,
      "cures_180d": 0, "bucket_1m_ago": None, "roll_state": "new", "balance_change_30d": None,
      "balance_change_90d": None, "utilisation_change_30d": None, "utilisation_change_90d": None,
      "limit_changes_180d": 0, "months_on_book": 0, "days_since_last_payment": None}),
    ("closed tonight after M1 a month ago",
     [snap(31, dpd=10), snap(0, status="closed", balance=0.0)],
     {"bucket": "M0", "bucket_1m_ago": "M1", "roll_state": "closed", "utilisation": 0.0,
      "cures_180d": 1, "days_since_delinquent": 31, "on_time_cycles": 1}),
    ("limit 0 with a balance is fully drawn",
     [snap(0, credit_limit=0.0, balance=50.0)], {"utilisation": 1.0}),
    ("limit 0 without a balance is unused",
     [snap(0, credit_limit=0.0, balance=0.0)], {"utilisation": 0.0, "past_due_ratio": 0.0}),
    ("over limit is kept above 1",
     [snap(0, balance=1200.0)], {"utilisation": 1.2}),
    ("past due share of the balance",
     [snap(0, dpd=5, past_due_amount=100.0)],
     {"bucket": "M1", "past_due_ratio": 0.25, "days_since_delinquent": 0, "on_time_cycles": 0}),
    ("days since the last payment",
     [snap(0, last_payment_date=ago(10))], {"days_since_last_payment": 10}),
    ("bucket a month ago: the snapshot exactly a month ago wins",
     [snap(32, dpd=90), snap(31, dpd=40), snap(0)],
     {"bucket_1m_ago": "M2", "roll_state": "cured"}),
    ("bucket a month ago: a missed night falls back up to 3 days",
     [snap(33, dpd=45), snap(30), snap(0, dpd=70)],
     {"bucket_1m_ago": "M2", "roll_state": "rolled_forward", "bucket": "M3"}),
    ("bucket a month ago: more than 3 days before is no bucket",
     [snap(35, dpd=20), snap(0, dpd=20)],
     {"bucket_1m_ago": None, "roll_state": "new"}),
    ("roll: stayed in M1",
     [snap(31, dpd=5), snap(0, dpd=20)], {"roll_state": "stayed"}),
    ("roll: back from M3 to M1",
     [snap(31, dpd=70), snap(0, dpd=10)], {"roll_state": "rolled_back"}),
    ("roll: charged off is WO, worse than M6",
     [snap(31, dpd=170), snap(0, dpd=200, status="charged_off")],
     {"bucket": "WO", "bucket_1m_ago": "M6", "roll_state": "rolled_forward"}),
    ("a cure and a re-default in one window",
     [snap(170), snap(140, dpd=35), snap(120, dpd=65), snap(100), snap(60, dpd=40), snap(31),
      snap(0, dpd=5)],
     {"times_30plus_180d": 2, "times_60plus_180d": 1, "cures_180d": 2, "max_dpd_180d": 65,
      "max_dpd_90d": 40, "max_dpd_30d": 5, "days_since_delinquent": 0, "on_time_cycles": 0,
      "bucket": "M1", "bucket_1m_ago": "M0", "roll_state": "rolled_forward"}),
    ("the first snapshot in the window already 60+ is an entry; the one before is not read",
     [snap(200, dpd=40, credit_limit=500.0), snap(170, dpd=70), snap(0)],
     {"times_30plus_180d": 1, "times_60plus_180d": 1, "cures_180d": 1, "max_dpd_180d": 70,
      "days_since_delinquent": 170, "on_time_cycles": 5, "limit_changes_180d": 0}),
    ("limit changes between consecutive snapshots",
     [snap(150), snap(120), snap(90, credit_limit=2000.0), snap(60, credit_limit=2000.0),
      snap(0, credit_limit=1500.0)],
     {"limit_changes_180d": 2, "credit_limit": Decimal("1500.00")}),
    ("on-time cycles: a full clean window of 180 days is 6",
     [snap(200, dpd=30), snap(179), snap(0)],
     {"on_time_cycles": 6, "days_since_delinquent": None, "max_dpd_180d": 0}),
    ("on-time cycles: 46 clean days since the first snapshot is 1",
     [snap(45), snap(0)], {"on_time_cycles": 1}),
    ("on-time cycles: 65 days since the last delinquent snapshot is 2",
     [snap(65, dpd=3), snap(0)], {"on_time_cycles": 2, "days_since_delinquent": 65}),
    ("trends against the latest snapshot at or before 30 and 90 days ago",
     [snap(100, balance=100.0), snap(90, balance=250.0), snap(89, balance=260.0),
      snap(40, balance=300.0), snap(30, balance=310.0, credit_limit=620.0),
      snap(29, balance=320.0), snap(0, balance=500.0)],
     {"balance_change_30d": Decimal("190.00"), "utilisation_change_30d": 0.0,
      "balance_change_90d": Decimal("250.00"), "utilisation_change_90d": 0.25}),
    ("trends: a missed night falls back to the snapshot before",
     [snap(95, balance=200.0), snap(40, balance=300.0, credit_limit=600.0), snap(20),
      snap(0, balance=500.0)],
     {"balance_change_30d": Decimal("200.00"), "utilisation_change_30d": 0.0,
      "balance_change_90d": Decimal("300.00"), "utilisation_change_90d": 0.3}),
    ("trends: nothing within 180 days that old",
     [snap(200, balance=100.0), snap(0, balance=500.0)],
     {"balance_change_30d": None, "balance_change_90d": None}),
    ("payment ratio: paid since a month ago over the amount due then",
     [snap(40, amount_due=999.0), snap(31, amount_due=200.0, payment_amount=50.0),
      snap(20, payment_amount=80.0), snap(0, payment_amount=70.0)],
     {"payment_ratio": 0.75}),
    ("payment ratio: nothing due a month ago",
     [snap(31, amount_due=0.0), snap(0, payment_amount=70.0)], {"payment_ratio": None}),
    ("payment ratio: a missed night a month ago uses the latest snapshot before it",
     [snap(34, amount_due=100.0), snap(0, payment_amount=100.0)], {"payment_ratio": 1.0}),
    ("months on book count calendar-month boundaries",
     [snap(0, open_date=date(2024, 5, 31))], {"months_on_book": 1}),
    ("months on book: a year and a day less",
     [snap(0, open_date=date(2023, 6, 21))], {"months_on_book": 12}),
    ("missed due dates: each entry into DPD >= 1, the first snapshot in the window too",
     [snap(200, dpd=5), snap(179, dpd=6), snap(150), snap(120, dpd=3), snap(119, dpd=4),
      snap(60), snap(30, dpd=1), snap(0)],
     {"delinquency_entries_180d": 2 + 1}),
    ("part-payments: a payment that left the account delinquent, within 90 days",
     [snap(100, dpd=20, payment_amount=10.0), snap(80, dpd=40, payment_amount=15.0),
      snap(70, dpd=50, payment_amount=0.0), snap(60, payment_amount=500.0),
      snap(0, dpd=3, payment_amount=5.0)],
     {"partial_payments_90d": 2}),
    ("the contract's rate as a share; a text that is not a number is null",
     [snap(0, annual_interest_rate="0.1825")], {"annual_interest_rate": 0.1825}),
    ("the other accounts' worst DPD within 180 days, not this account's",
     [snap(0, dpd=50), snap(90, "A2", dpd=70), snap(0, "A2"), snap(0, "A3", dpd=12),
      snap(0, "B1", customer_id="C2", dpd=120)],
     {"other_accounts_max_dpd_180d": 70}),
    ("no other account: other accounts' DPD is null",
     [snap(0, dpd=50), snap(0, "B1", customer_id="C2", dpd=120)],
     {"other_accounts_max_dpd_180d": None}),
]


@pytest.mark.parametrize(("case", "snapshots", "expected"), SNAPSHOT_CASES,
                         ids=[c[0] for c in SNAPSHOT_CASES])
def test_snapshot_features(case, snapshots, expected):
    rows = features(book(snapshots))
    assert_features(rows[(NIGHT, "A1")], expected)


# (case, night, snapshots, expected features of A1 that night)
MONTH_END_CASES = [
    ("31 March 2024 looks back to 29 February",
     date(2024, 3, 31),
     [snap(on=date(2024, 2, 28), dpd=200), snap(on=date(2024, 2, 29)),
      snap(on=date(2024, 3, 2), dpd=45), snap(on=date(2024, 3, 31), dpd=15)],
     {"bucket_1m_ago": "M0", "roll_state": "rolled_forward"}),
    ("31 March 2025 looks back to 28 February",
     date(2025, 3, 31),
     [snap(on=date(2025, 2, 28), dpd=40), snap(on=date(2025, 3, 3)), snap(on=date(2025, 3, 31))],
     {"bucket_1m_ago": "M2", "roll_state": "cured"}),
    ("30 March 2024 is clamped to 29 February",
     date(2024, 3, 30),
     [snap(on=date(2024, 2, 29), dpd=3), snap(on=date(2024, 3, 1), dpd=4),
      snap(on=date(2024, 3, 30), dpd=3)],
     {"bucket_1m_ago": "M1", "roll_state": "stayed"}),
    ("30 November looks back to 31 October (month end to month end)",
     date(2023, 11, 30),
     [snap(on=date(2023, 10, 30), dpd=40), snap(on=date(2023, 10, 31)),
      snap(on=date(2023, 11, 30))],
     {"bucket_1m_ago": "M0", "roll_state": "stayed"}),
]


@pytest.mark.parametrize(("case", "night", "snapshots", "expected"), MONTH_END_CASES,
                         ids=[c[0] for c in MONTH_END_CASES])
def test_one_month_earlier_at_month_ends(case, night, snapshots, expected):
    rows = features(book(snapshots), night)
    assert_features(rows[(night, "A1")], expected)


# (case, snapshots, events, expected features of A1 on NIGHT)
EVENT_CASES = [
    ("customer-level dispute opened", [snap(0)],
     [event("dispute_opened", 10, account=None)], {"open_dispute": True}),
    ("account dispute closed by a later customer-level closing", [snap(0)],
     [event("dispute_opened", 10), event("dispute_closed", 5, account=None)],
     {"open_dispute": False}),
    ("another account's dispute is not this account's", [snap(0), snap(0, "A2")],
     [event("dispute_opened", 10, account="A2")], {"open_dispute": False}),
    ("a dispute re-opened after its closing", [snap(0)],
     [event("dispute_opened", 20), event("dispute_closed", 15), event("dispute_opened", 5)],
     {"open_dispute": True}),
    ("a dispute opened more than 180 days ago is not read", [snap(0)],
     [event("dispute_opened", 200)], {"open_dispute": False}),
    ("closing at the same instant as the opening wins", [snap(0)],
     [event("dispute_opened", 3, at=datetime(2024, 6, 17, 9, tzinfo=UTC)),
      event("dispute_closed", 3, at=datetime(2024, 6, 17, 9, tzinfo=UTC))],
     {"open_dispute": False}),
    ("event order is event_time, not the file", [snap(0)],
     [event("dispute_closed", 2, at=datetime(2024, 6, 10, 9, tzinfo=UTC)),
      event("dispute_opened", 1, at=datetime(2024, 6, 9, 9, tzinfo=UTC))],
     {"open_dispute": False}),
    ("complaints of the customer in the last 90 days, on any account", [snap(0), snap(0, "A2")],
     [event("complaint", 0), event("complaint", 10, account="A2"), event("complaint", 89),
      event("complaint", 90), event("complaint", 5, customer="C2", account=None)],
     {"complaints_90d": 3}),
    ("promise broken: 300 paid of 500 by its date",
     [snap(30, payment_amount=200.0), snap(20, payment_amount=100.0),
      snap(19, payment_amount=400.0), snap(0)],
     [event("promise_to_pay", 40, amount=500.0, until_ago=20)], {"broken_promises_90d": 1}),
    ("promise kept: 300 paid of 300",
     [snap(30, payment_amount=200.0), snap(20, payment_amount=100.0), snap(0)],
     [event("promise_to_pay", 40, amount=300.0, until_ago=20)], {"broken_promises_90d": 0}),
    ("a payment on the promise's own night came before it",
     [snap(30, payment_amount=100.0), snap(25), snap(0)],
     [event("promise_to_pay", 30, amount=100.0, until_ago=20)], {"broken_promises_90d": 1}),
    ("a promise due tonight is not broken yet", [snap(0)],
     [event("promise_to_pay", 10, amount=100.0, until_ago=0)], {"broken_promises_90d": 0}),
    ("a promise due more than 90 days ago is not counted", [snap(0)],
     [event("promise_to_pay", 120, amount=100.0, until_ago=95)], {"broken_promises_90d": 0}),
    ("a customer-level promise is kept by payments on any of the customer's accounts",
     [snap(25, "A2", payment_amount=500.0), snap(25), snap(0), snap(0, "A2")],
     [event("promise_to_pay", 40, account=None, amount=500.0, until_ago=20)],
     {"broken_promises_90d": 0}),
    ("calls: dials within 30 days, connected ones, the 180-day connect rate and the last one",
     [snap(0), snap(0, "A2")],
     [event("call_attempt", 0), event("call_attempt", 29), event("call_connected", 12),
      event("call_attempt", 30), event("call_connected", 100), event("call_attempt", 179),
      event("call_attempt", 180), event("call_connected", 3, account="A2"),
      event("call_attempt", 5, account=None)],
     {"call_attempts_30d": 4, "calls_connected_30d": 1, "call_connect_rate_180d": 2 / 7,
      "days_since_connected_call": 12}),
    ("no call: no connect rate and no last connected call", [snap(0)],
     [event("complaint", 3)],
     {"call_attempts_30d": 0, "calls_connected_30d": 0, "call_connect_rate_180d": None,
      "days_since_connected_call": None, "promise_pending": False}),
    ("a promise landed within 30 days and due from tonight on is pending", [snap(0)],
     [event("promise_to_pay", 29, amount=100.0, until_ago=0)], {"promise_pending": True}),
    ("a promise due yesterday, or landed 30 days ago, is not pending", [snap(0)],
     [event("promise_to_pay", 10, amount=100.0, until_ago=1),
      event("promise_to_pay", 30, amount=100.0, until_ago=-5)], {"promise_pending": False}),
    ("the customer's deceased, bankruptcy, do-not-contact and phone opt-out within 180 days",
     [snap(0)],
     [event("deceased", 179, account=None), event("bankruptcy", 180, account=None),
      event("do_not_contact", 3, account=None), event("opt_out", 2, account=None)],
     {"customer_deceased": True, "customer_bankrupt": False, "do_not_contact": True,
      "phone_opt_out": False}),
    ("another account's broken promise is not this account's",
     [snap(0), snap(0, "A2")],
     [event("promise_to_pay", 40, account="A2", amount=500.0, until_ago=20)],
     {"broken_promises_90d": 0}),
]


@pytest.mark.parametrize(("case", "snapshots", "events", "expected"), EVENT_CASES,
                         ids=[c[0] for c in EVENT_CASES])
def test_contact_event_features(case, snapshots, events, expected):
    rows = features(book(snapshots, events=events))
    assert_features(rows[(NIGHT, "A1")], expected)


def test_macro_is_the_latest_national_month_landed_by_the_night():
    macros = [
        macro(date(2024, 4, 1), 4.0, 0.1, landed=date(2024, 5, 1)),
        macro(date(2024, 5, 1), 5.0, 0.2, landed=date(2024, 6, 1)),
        macro(date(2024, 5, 1), 5.1, 0.3, landed=date(2024, 6, 5)),  # revision of May
        macro(date(2024, 5, 1), 9.9, 9.9, landed=date(2024, 6, 5), region="BJ"),  # regional
        macro(date(2024, 6, 1), 5.3, 0.4, landed=date(2024, 6, 25)),  # lands after the night
    ]
    rows = features(book([snap(0)], macros=macros))
    assert_features(rows[(NIGHT, "A1")], {"unemployment_rate": 5.1, "cpi_yoy": 0.3})


def test_macro_is_null_when_the_feed_is_empty_or_too_old():
    assert_features(features(book([snap(0)]))[(NIGHT, "A1")],
                    {"unemployment_rate": None, "cpi_yoy": None})
    old = [macro(date(2023, 11, 1), 4.0, 0.1, landed=date(2023, 12, 1))]
    assert_features(features(book([snap(0)], macros=old))[(NIGHT, "A1")],
                    {"unemployment_rate": None, "cpi_yoy": None})


def test_bureau_score_is_the_customers_latest_landed_by_the_night():
    scores = [
        score(date(2024, 5, 1), 640, landed=date(2024, 5, 2)),
        score(date(2024, 6, 1), 655, landed=date(2024, 6, 2)),
        score(date(2024, 6, 15), 700, landed=date(2024, 6, 25)),  # lands after the night
        score(date(2024, 6, 18), 300, landed=date(2024, 6, 19), customer="C2"),
    ]
    assert features(book([snap(0)], scores=scores))[(NIGHT, "A1")]["bureau_score"] == 655
    old = [score(date(2023, 12, 1), 640, landed=date(2023, 12, 2))]
    assert features(book([snap(0)], scores=old))[(NIGHT, "A1")]["bureau_score"] is None


def test_every_column_of_one_account_stated_by_hand():
    snapshots = [
        snap(150, balance=300.0, amount_due=30.0),
        snap(120, dpd=35, balance=380.0, past_due_amount=60.0),
        snap(95, balance=200.0, payment_amount=250.0),
        snap(31, dpd=12, balance=420.0, amount_due=80.0, credit_limit=1500.0),
        snap(10, balance=360.0, credit_limit=1500.0, payment_amount=60.0),
        snap(0, balance=450.0, credit_limit=1500.0, payment_amount=20.0,
             last_payment_date=ago(2), open_date=date(2023, 3, 10)),
    ]
    events = [event("dispute_opened", 12), event("complaint", 12),
              event("promise_to_pay", 40, amount=100.0, until_ago=15)]
    rows = features(book(snapshots, events=events,
                         macros=[macro(date(2024, 5, 1), 5.2, 0.3, landed=date(2024, 6, 1))],
                         scores=[score(date(2024, 6, 1), 612, landed=date(2024, 6, 2))]))
    row = rows[(NIGHT, "A1")]
    expected = {
        "snapshot_date": NIGHT, "account_id": "A1", "customer_id": "C1", "product": "revolving",
        "status": "open", "currency": "CNY",
        "bucket": "M0", "days_past_due": 0, "balance": Decimal("450.00"),
        "credit_limit": Decimal("1500.00"), "past_due_amount": Decimal("0.00"),
        "utilisation": 0.3, "past_due_ratio": 0.0,
        "payment_ratio": 1.0,  # (60 + 20) paid since 20 May / 80 due on 20 May
        "days_since_last_payment": 2,
        "days_until_due": None, "amount_due_ratio": 50.0 / 450.0,
        "max_dpd_30d": 0, "max_dpd_90d": 12, "max_dpd_180d": 35,
        "times_30plus_180d": 1, "times_60plus_180d": 0,
        "days_since_delinquent": 31, "on_time_cycles": 1, "cures_180d": 2,
        "bucket_1m_ago": "M1", "roll_state": "cured",
        "balance_change_30d": Decimal("30.00"),  # 450 - 420 (20 May)
        "balance_change_90d": Decimal("250.00"),  # 450 - 200 (17 March)
        "utilisation_change_30d": 0.02, "utilisation_change_90d": 0.1,
        "limit_changes_180d": 1, "months_on_book": 15,
        "open_dispute": True, "broken_promises_90d": 1, "complaints_90d": 1,
        "unemployment_rate": 5.2, "cpi_yoy": 0.3, "bureau_score": 612,
        "delinquency_entries_180d": 2, "partial_payments_90d": 0, "call_attempts_30d": 0,
        "calls_connected_30d": 0, "call_connect_rate_180d": None,
        "days_since_connected_call": None, "promise_pending": False,
        "customer_deceased": False, "customer_bankrupt": False, "do_not_contact": False,
        "phone_opt_out": False, "annual_interest_rate": None,
        "other_accounts_max_dpd_180d": None,
    }
    assert set(row) == set(expected)
    assert_features(row, expected)


def test_an_account_missing_tonight_has_no_row_and_comes_back_with_its_history():
    back_tonight = snap(0, balance=0.0)
    snapshots = [snap(2, dpd=40), snap(1, "A2"), snap(0, "A2")]
    conn = book(snapshots)
    missing = features(conn, ago(1), NIGHT)
    assert (ago(1), "A1") not in missing and (NIGHT, "A1") not in missing
    assert set(missing) == {(ago(1), "A2"), (NIGHT, "A2")}
    back = features(book([*snapshots, back_tonight]))[(NIGHT, "A1")]
    assert_features(back, {"cures_180d": 1, "days_since_delinquent": 2, "max_dpd_30d": 40})


def test_a_range_run_reads_nothing_before_each_nights_window():
    # run for [ago 10, NIGHT] the statement reads from ago 189; NIGHT's window starts at ago 179
    snapshots = [snap(185, dpd=100, credit_limit=500.0), snap(175), snap(10), snap(0)]
    rows = features(book(snapshots), ago(10), NIGHT)
    assert_features(rows[(ago(10), "A1")], {
        "max_dpd_180d": 100, "times_30plus_180d": 1, "times_60plus_180d": 1, "cures_180d": 1,
        "limit_changes_180d": 1, "days_since_delinquent": 175, "on_time_cycles": 5})
    assert_features(rows[(NIGHT, "A1")], {
        "max_dpd_180d": 0, "times_30plus_180d": 0, "times_60plus_180d": 0, "cures_180d": 0,
        "limit_changes_180d": 0, "days_since_delinquent": None,
        "on_time_cycles": 5})  # 176 clean days from ago 175


def test_a_promise_is_broken_from_the_night_after_its_date():
    snapshots = [snap(days) for days in range(8)]
    events = [event("promise_to_pay", 7, amount=100.0, until_ago=5)]
    rows = features(book(snapshots, events=events), ago(6), NIGHT)
    broken = {night: row["broken_promises_90d"] for (night, _), row in rows.items()}
    assert broken == {ago(days): int(days < 5) for days in range(7)}


def test_monthly_cadence_reads_month_end_to_month_end():
    dpds = {1: 0, 2: 0, 3: 15, 4: 45, 5: 0, 6: 20}
    ends = {m: date(2024, m + 1, 1) - timedelta(days=1) for m in dpds}
    snapshots = [
        snap(on=ends[m], dpd=dpds[m], balance=100.0 * m,
             amount_due={1: 100.0, 5: 200.0}.get(m, 60.0),
             payment_amount={1: 999.0, 2: 50.0, 6: 150.0}.get(m, 0.0))
        for m in dpds
    ]
    rows = features(book(snapshots), date(2024, 1, 1), date(2024, 6, 30))
    assert sorted({night for night, _ in rows}) == list(ends.values())
    # February: 50 paid since 31 January over 100 due then; January's 999 is not counted twice
    assert_features(rows[(date(2024, 2, 29), "A1")], {
        "payment_ratio": 0.5, "bucket_1m_ago": "M0", "roll_state": "stayed"})
    assert_features(rows[(date(2024, 6, 30), "A1")], {
        "payment_ratio": 0.75,  # 150 paid in June / 200 due on 31 May
        "bucket": "M1", "bucket_1m_ago": "M0", "roll_state": "rolled_forward",
        "max_dpd_30d": 20, "max_dpd_90d": 45, "max_dpd_180d": 45,
        "times_30plus_180d": 1, "times_60plus_180d": 0, "cures_180d": 1,
        "days_since_delinquent": 0,
        "balance_change_30d": Decimal("100.00"),  # 600 - 500 (31 May, at or before 31 May)
        "balance_change_90d": Decimal("300.00"),  # 600 - 300 (31 March, at or before 1 April)
    })


def _random_book(seed: int, first: date, nights: int) -> tuple[list, list, list, list]:
    """A few accounts with gaps, delinquency, limit changes and events: for whole-book checks."""
    rng = random.Random(seed)
    snapshots, events = [], []
    for number in range(1, 7):
        account, customer = f"A{number}", f"C{(number + 1) // 2}"
        dpd, limit = 0, 1000.0
        for day in range(nights):
            night = first + timedelta(days=day)
            if rng.random() < 0.08:  # a missed night
                continue
            dpd = dpd + 1 if dpd and rng.random() < 0.97 else (1 if rng.random() < 0.05 else 0)
            if rng.random() < 0.02:
                limit = rng.choice([0.0, 500.0, 1000.0, 2000.0])
            snapshots.append(snap(
                on=night, account=account, customer_id=customer, dpd=dpd, credit_limit=limit,
                balance=float(rng.randint(0, 2500)), amount_due=float(rng.choice([0, 50, 80])),
                payment_amount=float(rng.choice([0, 0, 0, 30, 80])),
                last_payment_date=night - timedelta(days=rng.randint(0, 20)),
                status="closed" if dpd == 0 and rng.random() < 0.01 else "open"))
            if rng.random() < 0.05:
                kind = rng.choice(["dispute_opened", "dispute_closed", "complaint",
                                   "promise_to_pay"])
                events.append({
                    "landing_date": night, "event_id": f"R{seed}-{len(events)}",
                    "event_time": datetime.combine(night, datetime.min.time(), UTC)
                    + timedelta(hours=rng.randint(0, 23)),
                    "customer_id": customer, "account_id": rng.choice([account, None]),
                    "event_type": kind, "channel": None,
                    "amount": 100.0 if kind == "promise_to_pay" else None,
                    "until_date": night + timedelta(days=10) if kind == "promise_to_pay" else None,
                })
    macros = [macro(date(first.year, first.month, 1) + timedelta(days=31 * i), 5.0 + i, 0.1 * i,
                    landed=first + timedelta(days=31 * i + 5)) for i in range(nights // 31)]
    scores = [score(first + timedelta(days=d), 600 + d, landed=first + timedelta(days=d + 1),
                    customer=f"C{1 + d % 3}") for d in range(0, nights, 17)]
    return snapshots, events, macros, scores


def test_a_range_of_nights_equals_the_nights_run_one_by_one():
    first = date(2024, 1, 1)
    conn = book(*_random_book(7, first, 220))
    start, end = date(2024, 7, 20), date(2024, 8, 7)
    together = features(conn, start, end)
    one_by_one = {}
    night = start
    while night <= end:
        one_by_one |= features(conn, night)
        night += timedelta(days=1)
    assert len(together) > 80
    assert together == one_by_one


def test_a_large_book_run_in_customer_ranges_gives_the_same_rows_as_in_one_statement():
    """Above OVERDUE_FEATURE_ROWS_PER_PASS window rows the query runs once per customer range
    (a 10M-account night in one statement spilled for over 25 minutes); nothing may change."""
    from pipelines.lib.features.nightly_tables import customer_ranges, rebuild_nights

    first = date(2024, 1, 1)
    snapshots, events, macros, scores = _random_book(5, first, 220)
    # more customers, and customers with several accounts, so the ranges cut between them
    for copy in range(1, 4):
        snapshots += [row | {"account_id": f"{row['account_id']}-{copy}",
                             "customer_id": f"{row['customer_id']}-{copy % 2}"}
                      for row in snapshots if row["account_id"] in ("A1", "A2", "A3")]
    conn = book(snapshots, events, macros, scores)
    start, end = date(2024, 7, 25), date(2024, 8, 7)
    ranges = customer_ranges(conn, start, end, rows_per_pass=500)
    assert len(ranges) >= 4 and ranges[0][0] is None and ranges[-1][1] is None
    assert customer_ranges(conn, start, end) == [(None, None)]

    rebuild_nights(conn, "account_features", ACCOUNT_FEATURES_SQL, start, end)
    whole = conn.execute("select * from account_features order by all").fetchall()
    rebuild_nights(conn, "account_features", ACCOUNT_FEATURES_SQL, start, end, chunk_days=5,
                   rows_per_pass=500)
    ranged = conn.execute("select * from account_features order by all").fetchall()
    assert len(whole) > 150
    assert ranged == whole
    # and the same as the query run directly
    direct = features(conn, start, end)
    assert len(direct) == len(whole)


def test_no_feature_of_a_night_changes_when_later_data_arrives():
    first, start, end = date(2024, 1, 1), date(2024, 7, 1), date(2024, 7, 10)
    snapshots, events, macros, scores = _random_book(11, first, 192)
    conn = book(*[[row for row in rows if _dated(row) <= end]
                  for rows in (snapshots, events, macros, scores)])
    before = features(conn, start, end)
    for table, rows in (("account_snapshots", snapshots), ("contact_events", events),
                        ("macro_indicators", macros), ("bureau_scores", scores)):
        insert(conn, table, [row for row in rows if _dated(row) > end])
    insert(conn, "account_snapshots", [  # a new account and wild values after the range
        snap(on=end + timedelta(days=1), account="A1", dpd=300, status="charged_off",
             credit_limit=0.0, payment_amount=5000.0),
        snap(on=end + timedelta(days=2), account="A99")])
    insert(conn, "contact_events", [  # an event stamped inside the range, landed after it
        event("dispute_opened", 0, at=datetime(2024, 7, 5, 9, tzinfo=UTC)) | {
            "landing_date": end + timedelta(days=1), "customer_id": "C1", "account_id": None}])
    assert conn.execute("select max(snapshot_date) from account_snapshots").fetchone()[0] > end
    assert features(conn, start, end) == before


def _dated(row: dict) -> date:
    return row.get("landing_date") or row["snapshot_date"]


def test_every_output_column_has_exactly_one_definition():
    conn = book([snap(0)])
    columns = account_features(conn, NIGHT, NIGHT).column_names
    dictionary = feature_dictionary()
    names = [name for name, _ in dictionary]
    assert len(names) == len(set(names))
    assert names == columns
    assert all(definition for _, definition in dictionary)


def test_no_protected_attribute_is_read_or_output():
    protected = ("sex", "gender", "marital", "age", "birth", "ethnic", "religio", "race")
    names = [name for name, _ in feature_dictionary()]
    assert not [n for n in names if any(n.startswith(word) for word in protected)]
    code = "\n".join(line.split("--")[0] for line in render_sql(ACCOUNT_FEATURES_SQL).splitlines())
    assert not re.search(r"\bcustomers(_history)?\b", code)  # the customer table is not read
    assert not [word for word in protected if re.search(rf"\b{word}", code)]


def test_a_warehouse_from_an_older_release_gains_new_columns_on_rebuild():
    from pipelines.lib.features.nightly_tables import rebuild_nights

    conn = book([snap(1, next_due_date=ago(-9)), snap(0, next_due_date=ago(-9))])
    rebuild_nights(conn, "account_features", "features/account_features", ago(1), ago(1))
    conn.execute("alter table account_features drop column days_until_due")
    conn.execute("alter table account_features drop column amount_due_ratio")

    rebuild_nights(conn, "account_features", "features/account_features", NIGHT, NIGHT)

    rows = dict(conn.execute("select snapshot_date, days_until_due from account_features").fetchall())
    assert rows == {ago(1): None, NIGHT: 9}
