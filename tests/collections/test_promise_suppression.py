"""The promise_to_pay suppression follows the promise (collection_tiers.sql): it holds while the
promise is the account's latest, up to its date plus the grace day, and ends once the payments
since it reach the amount. Nights 1..8 January 2026; every account is M1 (DPD 10+) throughout.
"""

from datetime import date, timedelta

import pytest

from pipelines.lib.collections import tiering
from tests.collections.book import STRATEGY, customer, event, snapshot, warehouse

NIGHTS = [date(2026, 1, d) for d in range(1, 9)]


def promise(number: int, landed: int, until: int, amount: float | None = 250.0) -> dict:
    return event("promise_to_pay", date(2026, 1, landed), number, channel="phone",
                 until=date(2026, 1, until)) | {"amount": amount}


@pytest.fixture(scope="module")
def suppressed():
    paid = {2: {3: 250.0},    # kept on the 3rd
            5: {3: 100.0}}    # 100 of 250: still promised
    snapshots = [snapshot(n, k, 10 + i, payment_amount=paid.get(k, {}).get(n.day, 0.0),
                          last_payment_date=n if paid.get(k, {}).get(n.day) else None)
                 for k in range(1, 7) for i, n in enumerate(NIGHTS)]
    customers = [customer(k, NIGHTS[0] - timedelta(days=1)) for k in range(1, 7)]
    events = [promise(1, 2, 4), promise(2, 2, 4), promise(3, 2, 9), promise(3, 3, 4),
              promise(4, 2, 4, amount=None), promise(5, 2, 4)]
    conn = warehouse(snapshots, customers, events)
    tiering.build_tiers(conn, STRATEGY, NIGHTS[0], NIGHTS[-1])
    rows = conn.execute("select account_id, snapshot_date, suppression_reasons "
                        "from collection_tiers").fetchall()
    return {(a, n.day) for a, n, reasons in rows
            if reasons and "promise_to_pay" in reasons.split(",")}


def nights(held: set, number: int) -> list[int]:
    return sorted(day for account, day in held if account == f"AC{number:08d}")


def test_an_unpaid_promise_holds_to_its_date_plus_the_grace_day(suppressed):
    assert nights(suppressed, 1) == [2, 3, 4, 5]
    assert nights(suppressed, 4) == [2, 3, 4, 5]  # no amount: only the date decides


def test_a_kept_promise_ends_the_hold_the_night_the_payment_shows(suppressed):
    assert nights(suppressed, 2) == [2]


def test_a_partial_payment_keeps_the_hold(suppressed):
    assert nights(suppressed, 5) == [2, 3, 4, 5]


def test_the_newest_promise_governs(suppressed):
    # promised the 9th on the 2nd, then the 4th on the 3rd: the hold ends after the 5th
    assert nights(suppressed, 3) == [2, 3, 4, 5]


def test_no_promise_no_hold(suppressed):
    assert nights(suppressed, 6) == []
