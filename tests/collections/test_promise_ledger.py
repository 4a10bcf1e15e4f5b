"""The promise ledger on hand-made books: every status, amount and night below is worked out by
hand from the snapshots' payments (grace 1 day unless a case says otherwise).

Daily book: one snapshot a night, 1..20 January 2026; a payment is reported on the snapshot of
its day (payment_amount, last_payment_date = that day). Monthly book: month-end snapshots (31
January, 28 February, 31 March 2026), each reporting the month's payments dated by its last one.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import duckdb
import pytest

from pipelines.lib.collections import promises as ledger
from pipelines.lib.collections import tiering
from pipelines.lib.ingest.load import ensure_warehouse
from pipelines.lib.report.render import strings
from pipelines.lib.report.sections import promises as section
from tests.collections.book import insert

JAN = [date(2026, 1, d) for d in range(1, 21)]
MONTH_ENDS = [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]

OUTCOMES = """create table contact_outcomes (
    outcome_id varchar, contact_id varchar, outcome_time timestamp with time zone,
    outcome varchar, promised_amount decimal(18, 2), promised_date date, offer_id varchar,
    agent_id varchar, agency_id varchar, source varchar, landing_date date,
    source_file varchar, source_row bigint)"""


def snap(night: date, account: str, customer: str | None = None, paid: float = 0.0,
         paid_on: date | None = None, currency: str = "CNY") -> dict:
    return {
        "snapshot_date": night, "account_id": account, "customer_id": customer or f"C{account}",
        "product": "revolving", "open_date": date(2025, 1, 15), "status": "open",
        "currency": currency, "credit_limit": 10000.0, "balance": 3000.0, "amount_due": 300.0,
        "past_due_amount": 300.0, "days_past_due": 35, "next_due_date": None,
        "payment_amount": paid, "last_payment_date": paid_on or (night if paid else None),
    }


def daily(account: str, nights=JAN, payments: dict | None = None, **kw) -> list[dict]:
    payments = payments or {}
    return [snap(n, account, paid=payments.get(n.day, 0.0), **kw) for n in nights]


_ids = iter(range(1, 10_000))


def promise(account: str | None, landed: date, amount: float | None, until: date | None,
            customer: str | None = None) -> dict:
    return {
        "landing_date": landed, "event_id": f"E{next(_ids)}",
        "event_time": datetime.combine(landed, datetime.min.time(), UTC) + timedelta(hours=9),
        "customer_id": customer or f"C{account}", "account_id": account,
        "event_type": "promise_to_pay", "channel": "phone", "amount": amount,
        "until_date": until,
    }


def book(snapshots: list[dict], events: list[dict]) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(":memory:")
    ensure_warehouse(conn)
    insert(conn, "account_snapshots", snapshots)
    insert(conn, "contact_events", events)
    return conn


def rows(conn, as_of: date, grace_days: int = 1) -> dict[str, dict]:
    ledger.build_promises(conn, as_of, grace_days=grace_days)
    cursor = conn.execute("select * from promises order by promise_id")
    names = [d[0] for d in cursor.description]
    found = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return {(r["account_id"] or r["customer_id"]) + ("" if r["status"] != "superseded" else "~"): r
            for r in found}


def jan(day: int) -> date:
    return date(2026, 1, day)


def brief(row: dict) -> tuple:
    return row["status"], row["paid_amount"], row["resolved_night"]


D = Decimal


@pytest.fixture(scope="module")
def daily_book():
    j = {d.day: d for d in JAN}
    snapshots = (
        daily("A1", payments={6: 300.0})                      # paid on the grace day
        + daily("A2", payments={7: 300.0})                    # a day too late
        + daily("A3", payments={3: 200.0, 5: 250.0})          # 450 of 500
        + daily("A4", payments={8: 400.0})                    # kept the second promise
        + daily("A5", nights=JAN[:4])                         # gone after 4 January
        + daily("A6", payments={12: 100.0})                   # promise due 25 January
        + daily("A7", payments={1: 300.0})                    # paid before promising
        + daily("A9", customer="C9", payments={4: 100.0})     # customer-wide promise,
        + daily("A10", customer="C9", payments={5: 200.0})    # paid across two accounts
        + daily("A14", payments={2: 100.0})                   # paid the day before, UTC-wise
    )
    events = [
        promise("A1", j[2], 300.0, j[5]),
        promise("A2", j[2], 300.0, j[5]),
        promise("A3", j[2], 500.0, j[5]),
        promise("A4", j[2], 400.0, j[10]),
        promise("A4", j[4], 400.0, j[12]),
        promise("A5", j[2], 100.0, j[5]),
        promise("A6", j[10], 300.0, date(2026, 1, 25)),
        promise("A7", j[2], 300.0, j[5]),
        promise(None, j[2], 300.0, j[5], customer="C9"),
        # 07:00 in Shanghai on the 3rd is still the 2nd in UTC: the lender's day is the 3rd
        promise("A14", j[3], 100.0, j[5]) | {
            "event_time": datetime(2026, 1, 2, 23, 0, tzinfo=UTC)},
    ]
    return book(snapshots, events)


def test_daily_book_each_promise_as_worked_out_by_hand(daily_book):
    got = rows(daily_book, JAN[-1])
    assert brief(got["A1"]) == ("kept", D("300.00"), jan(6))
    assert brief(got["A2"]) == ("broken", D("0.00"), jan(6))
    assert brief(got["A3"]) == ("broken", D("450.00"), jan(6))
    assert brief(got["A4~"]) == ("superseded", D("0.00"), jan(4))
    assert got["A4~"]["superseded_by"] == got["A4"]["promise_id"]
    assert brief(got["A4"]) == ("kept", D("400.00"), jan(8))
    assert brief(got["A5"]) == ("unverifiable", D("0.00"), jan(6))
    assert brief(got["A6"]) == ("open", D("100.00"), None)
    assert brief(got["A7"]) == ("broken", D("0.00"), jan(6))
    assert brief(got["C9"]) == ("kept", D("300.00"), jan(5))
    assert got["C9"]["account_id"] is None and got["C9"]["currency"] == "CNY"
    assert brief(got["A14"]) == ("broken", D("0.00"), jan(6))
    assert got["A1"]["due_by"] == jan(6) and got["A1"]["promised_night"] == jan(2)
    assert {r["as_of_night"] for r in got.values()} == {JAN[-1]}


def test_without_grace_the_grace_day_payment_is_too_late(daily_book):
    got = rows(daily_book, JAN[-1], grace_days=0)
    assert brief(got["A1"]) == ("broken", D("0.00"), date(2026, 1, 5))
    assert brief(got["A3"]) == ("broken", D("450.00"), date(2026, 1, 5))


def test_earlier_nights_see_only_their_snapshots_and_the_ledger_agrees_later(daily_book):
    on_5th = rows(daily_book, date(2026, 1, 5))
    assert brief(on_5th["A1"]) == ("open", D("0.00"), None)
    assert brief(on_5th["A3"]) == ("open", D("450.00"), None)
    assert "A6" not in on_5th  # not promised yet
    later = rows(daily_book, JAN[-1])
    status = ledger.by_status(daily_book, date(2026, 1, 5))
    # as it stood on the 5th, from the full ledger: the decisions of the 6th are still open
    assert dict(zip(status.status, status.promises, strict=True)) == {
        "open": 7, "superseded": 1, "kept": 1}
    assert later["C9"]["resolved_night"] == date(2026, 1, 5)


def test_rerun_is_idempotent(daily_book):
    rows(daily_book, JAN[-1])
    first = daily_book.execute("select * from promises order by 1").fetchall()
    rows(daily_book, JAN[-1])
    assert daily_book.execute("select * from promises order by 1").fetchall() == first


def test_monthly_book_dates_a_months_payments_by_its_last_payment():
    jan31, feb28, mar31 = MONTH_ENDS
    snapshots = []
    for account, feb, mar in [
        ("M1", (500.0, date(2026, 2, 18)), None),         # paid before the date: kept
        ("M2", (500.0, date(2026, 2, 25)), None),         # paid after due_by 21 Feb: broken
        ("M3", (200.0, date(2026, 2, 15)), (300.0, date(2026, 3, 3))),  # over two months
        ("M4", (300.0, date(2026, 2, 12)), None),         # 300 of 500
    ]:
        snapshots.append(snap(jan31, account))
        snapshots.append(snap(feb28, account, paid=feb[0], paid_on=feb[1]))
        snapshots.append(snap(mar31, account, paid=mar[0] if mar else 0.0,
                              paid_on=mar[1] if mar else None))
    events = [promise("M1", date(2026, 2, 10), 500.0, date(2026, 2, 20)),
              promise("M2", date(2026, 2, 10), 500.0, date(2026, 2, 20)),
              promise("M3", date(2026, 2, 10), 500.0, date(2026, 3, 5)),
              promise("M4", date(2026, 2, 10), 500.0, date(2026, 2, 20))]
    conn = book(snapshots, events)
    on_feb = rows(conn, feb28)
    assert brief(on_feb["M1"]) == ("kept", D("500.00"), feb28)
    assert brief(on_feb["M2"]) == ("broken", D("0.00"), feb28)
    assert brief(on_feb["M3"]) == ("open", D("200.00"), None)
    assert brief(on_feb["M4"]) == ("broken", D("300.00"), feb28)
    on_mar = rows(conn, mar31)
    assert brief(on_mar["M3"]) == ("kept", D("500.00"), mar31)
    assert {k: brief(v) for k, v in on_mar.items() if k != "M3"} == \
        {k: brief(v) for k, v in on_feb.items() if k != "M3"}


def test_outcome_promises_carry_agent_and_tier_and_bad_promises_are_unverifiable():
    j = {d.day: d for d in JAN}
    conn = book(daily("A8", payments={7: 60.0, 8: 40.0}) + daily("A11")
                + daily("A12", customer="C12") + daily("A13", customer="C12", currency="USD"),
                [promise("A11", j[3], None, j[6]),
                 promise(None, j[3], 100.0, j[6], customer="C12")])
    tiering.ensure_tables(conn)
    conn.execute("insert into contact_history by name select 'CT1' as contact_id, 'k1' as "
                 "idempotency_key, date '2026-01-02' as snapshot_date, 'A8' as account_id, "
                 "'CA8' as customer_id, 'phone' as channel, 'sent' as status, 'plan' as source, "
                 "now() as planned_at, now() as updated_at")
    conn.execute("insert into collection_tiers by name select date '2026-01-02' as "
                 "snapshot_date, 'A8' as account_id, 'CA8' as customer_id, 'T2' as tier, 'test' as strategy_version")
    conn.execute("drop table if exists contact_outcomes")
    conn.execute(OUTCOMES)
    conn.execute("insert into contact_outcomes values ('O1', 'CT1', "
                 "timestamptz '2026-01-03 10:00:00+08', 'promise_to_pay', 100.00, "
                 "date '2026-01-07', null, 'AG1', null, 'work_list', date '2026-01-03', "
                 "'landing/contact_outcomes/2026-01-03.csv', 1)")
    got = rows(conn, JAN[-1])
    assert brief(got["A8"]) == ("kept", D("100.00"), date(2026, 1, 8))
    assert (got["A8"]["promise_id"], got["A8"]["source"], got["A8"]["agent_id"],
            got["A8"]["tier_at_promise"]) == ("po:O1", "contact_outcomes", "AG1", "T2")
    # no amount; a customer-wide promise over CNY and USD accounts
    assert brief(got["A11"]) == ("unverifiable", D("0.00"), date(2026, 1, 3))
    assert brief(got["C12"])[0] == "unverifiable" and got["C12"]["currency"] is None

    # the report sub-section over the same ledger: kept rates by tier and collector
    frames = section.collect(conn, JAN[-1], {"promises", "contact_outcomes"})
    shown = section.tables(frames, strings()["en"], "en", "CNY")
    assert shown["kept"] == [
        ["tier at promise", "none recorded", "0", "0", "0", "2", "–"],
        ["tier at promise", "T2", "1", "0", "0", "0", "100%"],
        ["collector", "AG1", "1", "0", "0", "0", "100%"]]
    assert shown["amounts"] == [["CNY", "1", "¥100.00", "¥100.00", "100%", "0", "¥0.00"]]
    # three promises in 30 nights, one right-party disposition (the promise itself)
    assert [v for _, v in shown["summary"]] == ["0", "3", "1", "300%", "0"]


def test_ledger_check_passes_and_catches_a_contradiction(daily_book):
    from pipelines.lib.warehouse import offending_rows
    rows(daily_book, JAN[-1])
    assert offending_rows(daily_book, "assert_promises_ledger_consistent").empty
    daily_book.execute("update promises set status = 'kept' where account_id = 'A3'")
    bad = offending_rows(daily_book, "assert_promises_ledger_consistent")
    assert list(bad.problem) == ["kept but paid short"]


def test_the_sections_strings_have_the_same_keys_in_both_languages():
    words = strings()
    assert set(words["zh-CN"]["promises"]) == set(words["en"]["promises"])
    assert set(words["zh-CN"]["promises"]["dimensions"]) == {"tier", "agent", "agency"}


def test_night_by_night_builds_give_the_backfills_ledger_and_settled_promises_stay():
    nights = [date(2026, 1, 1) + timedelta(days=i) for i in range(100)]

    def account_book():
        return (daily("B1", nights=nights, payments={5: 300.0})        # kept 5 Jan
                + daily("B2", nights=nights)                            # broken 11 Jan
                + daily("B3", nights=nights, payments={80: 50.0}))      # superseded, then open

    events = [promise("B1", date(2026, 1, 2), 300.0, date(2026, 1, 5)),
              promise("B2", date(2026, 1, 2), 300.0, date(2026, 1, 10)),
              promise("B3", date(2026, 3, 1), 300.0, date(2026, 3, 20)),
              promise("B3", date(2026, 3, 10), 300.0, date(2026, 4, 30))]
    stable = "select * exclude (as_of_night) from promises order by promise_id"
    nightly = book(account_book(), events)
    for night in nights:
        ledger.build_promises(nightly, night, grace_days=1)
    backfill = book(account_book(), events)
    ledger.build_promises(backfill, nights[-1], grace_days=1)
    assert nightly.execute(stable).fetchall() == backfill.execute(stable).fetchall()
    got = {r[0]: r[1:] for r in backfill.execute(
        "select account_id || case when status = 'superseded' then '~' else '' end, status, "
        "resolved_night from promises").fetchall()}
    assert got == {"B1": ("kept", jan(5)), "B2": ("broken", jan(11)),
                   "B3~": ("superseded", date(2026, 3, 10)), "B3": ("open", None)}
    # kept on 5 January, more than 45 nights before 10 April: settled, its snapshots not re-read
    backfill.execute("update promises set paid_amount = 299.99 where account_id = 'B1'")
    ledger.build_promises(backfill, nights[-1], grace_days=1)
    assert backfill.execute("select paid_amount from promises where account_id = 'B1'"
                            ).fetchone()[0] == D("299.99")
    assert backfill.execute("select count(*), min(as_of_night) from promises").fetchone() == \
        (4, nights[-1])


def test_an_empty_ledger_shows_zeros_and_no_rates():
    conn = book(daily("A1"), [])
    assert ledger.build_promises(conn, JAN[-1], grace_days=1) == 0
    shown = section.tables(section.collect(conn, JAN[-1], {"promises"}), strings()["zh-CN"],
                           "zh-CN", "CNY")
    assert shown == {"summary": [["本日新增承诺", "0"], ["近30天承诺", "0"],
                                 ["近30天联系到本人", "0"], ["承诺率", "–"], ["未到期承诺", "0"]],
                     "kept": [], "amounts": []}
    assert section.collect(conn, JAN[-1], set()) is None
