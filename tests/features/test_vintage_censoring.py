"""Vintage curves on a hand-written monthly book: left-censored months are blank, not 0; bad
rates by count and by balance, stated by hand."""

from datetime import date

import duckdb
import pyarrow as pa
import pytest

from pipelines.lib.features.nightly_tables import rebuild_nights
from pipelines.lib.ingest.load import ensure_warehouse
from pipelines.lib.warehouse import load_macros

NIGHTS = [date(2025, 3, 31), date(2025, 4, 30), date(2025, 5, 31), date(2025, 6, 30)]
JANUARY, APRIL, JUNE = date(2025, 1, 1), date(2025, 4, 1), date(2025, 6, 1)
# account -> open date, then (days past due, balance) per night; None: not in the file yet
BOOK = {
    # opened before the book's first night (2025-03-31): MOB 0 and 1 were never seen
    "old1": (date(2025, 1, 10), [(45, 100), (0, 100), (0, 100), (0, 100)]),  # 30+ at MOB 2
    "old2": (date(2025, 1, 20), [(0, 300), (0, 300), (0, 300), (35, 300)]),  # 30+ at MOB 5
    # opened in the book
    "new1": (date(2025, 4, 3), [None, (0, 400), (40, 400), (70, 400)]),  # 30+ at MOB 1
    "new2": (date(2025, 4, 20), [None, (0, 600), (0, 600), (0, 600)]),
    "june": (date(2025, 6, 10), [None, None, None, (0, 50)]),
}


def snapshot(night, account, opened, dpd, balance):
    return {"snapshot_date": night, "account_id": account, "customer_id": "C" + account,
            "product": "revolving", "open_date": opened, "status": "open", "currency": "CNY",
            "credit_limit": 1000.0, "balance": float(balance), "amount_due": 10.0,
            "past_due_amount": float(balance) if dpd else 0.0, "days_past_due": dpd,
            "next_due_date": None, "payment_amount": 0.0, "last_payment_date": None,
            "extra_columns": None, "source_file": "hand", "source_row": 1}


@pytest.fixture
def curves():
    conn = duckdb.connect()
    ensure_warehouse(conn)
    load_macros(conn)
    rows = [snapshot(night, account, opened, *state)
            for account, (opened, states) in BOOK.items()
            for night, state in zip(NIGHTS, states) if state is not None]
    conn.register("hand_rows", pa.Table.from_pylist(rows))
    conn.execute("insert into account_snapshots by name select * from hand_rows")
    conn.unregister("hand_rows")
    rebuild_nights(conn, "vintage_curves", "features/vintage_curves", NIGHTS[0], NIGHTS[-1],
                   before=("features/create_account_milestones",
                           "features/update_account_milestones"))

    def as_of(night):
        frame = conn.execute(
            "select open_month, months_on_book, observed, first_observed_mob, accounts, "
            "balance, ever_30plus, share_ever_30plus, share_ever_30plus_balance "
            "from vintage_curves where snapshot_date = ? order by 1, 2", [night]).fetchall()
        return {(o, m): (obs, first, a, float(b), e, s, sb)
                for o, m, obs, first, a, b, e, s, sb in frame}
    yield as_of
    conn.close()


def test_months_before_the_books_first_night_are_blank_not_zero(curves):
    cells = curves(NIGHTS[-1])
    for mob in (0, 1):
        observed, first, accounts, balance, ever, share, share_balance = cells[(JANUARY, mob)]
        assert (observed, first, accounts, balance) == (False, 2, 2, 400.0)
        assert (ever, share, share_balance) == (None, None, None)
    # counted from MOB 2 on: old1 was already 30+ on the first night, old2 went 30+ at MOB 5
    shares = {mob: cells[(JANUARY, mob)][5:] for mob in range(2, 6)}
    assert shares == {2: (0.5, 0.25), 3: (0.5, 0.25), 4: (0.5, 0.25), 5: (1.0, 1.0)}
    assert (JANUARY, 6) not in cells  # not reached yet


def test_a_vintage_opened_in_the_book_reads_from_mob_0(curves):
    cells = curves(NIGHTS[-1])
    # April: 2 accounts, 1,000 of balance; new1 (400) went 30+ in MOB 1
    assert [cells[(APRIL, mob)] for mob in range(3)] == [
        (True, 0, 2, 1000.0, 0, 0.0, 0.0),
        (True, 0, 2, 1000.0, 1, 0.5, 0.4),
        (True, 0, 2, 1000.0, 1, 0.5, 0.4),
    ]
    assert (APRIL, 3) not in cells
    assert cells[(JUNE, 0)] == (True, 0, 1, 50.0, 0, 0.0, 0.0)
    # as known on 2025-05-31, June is not there and April's curve ends at MOB 1
    earlier = curves(NIGHTS[2])
    assert {k for k in earlier if k[0] != JANUARY} == {(APRIL, 0), (APRIL, 1)}
    assert earlier[(APRIL, 1)][5] == 0.5
