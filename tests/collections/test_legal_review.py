"""The legal track of the write-off review and recoveries after write-off, on a tiny book whose
answers are worked out by hand from the strategy's thresholds (agencies.legal)."""

from datetime import date, timedelta
from decimal import Decimal

from pipelines.lib.collections import agencies, tiering
from pipelines.lib.report.sections import agencies as section
from tests.collections import book

NIGHT = date(2026, 6, 1)


def account(number, balance, *, currency="CNY", dpd=200, **values):
    return book.snapshot(NIGHT, number, dpd, currency=currency, balance=balance,
                         credit_limit=100000.0, **values)


def test_write_off_review_splits_into_tracks_by_balance_and_contactability():
    snaps = [
        account(1, 1000.0),     # CN below CNY 2,000: no track
        account(2, 60000.0),    # CN from CNY 50,000: litigation
        account(3, 10000.0),    # CN between, postal address on record: payment order
        account(4, 10000.0),    # CN between, no address, answered a call tonight: payment order
        account(5, 10000.0),    # CN between, no address, no contact: arbitration
        account(6, 10000.0),    # CN between, address but a letter came back returned: arbitration
        account(7, 6000.0, currency="USD"),   # US from USD 5,000: litigation
        account(8, 2000.0, currency="USD", dpd=1500, last_payment_date=date(2021, 1, 5)),
        account(9, 2000.0, currency="USD"),   # US between, address: arbitration
        account(10, 10000.0),   # CN between, its only call 400 days ago (lookback 365): arbitration
        account(11, 8000.0, dpd=30),  # M1: not in write-off review
    ]
    customers = [book.customer(n, NIGHT - timedelta(days=500),
                               country="US" if n in (7, 8, 9) else "CN")
                 for n in range(1, 12)]
    for n in (4, 5, 10):
        customers[n - 1]["postal_address"] = None
    events = [book.event("call_connected", NIGHT, 4),
              book.event("call_connected", NIGHT - timedelta(days=400), 10)]
    conn = book.warehouse(snaps, customers, events)
    tiering.build_tiers(conn, book.STRATEGY, NIGHT, NIGHT)
    tiering.ensure_tables(conn)
    conn.execute(
        "insert into contact_history (contact_id, idempotency_key, snapshot_date, account_id, "
        "customer_id, channel, status, source, planned_at, updated_at) values ('LT6', 'K6', ?, "
        "'AC00000006', 'CU0000006', 'letter', 'sent', 'plan', now(), now())",
        [NIGHT - timedelta(days=10)])
    conn.execute("drop table if exists contact_outcomes")
    conn.execute("create table contact_outcomes (landing_date date, outcome_id varchar, "
                 "contact_id varchar, outcome varchar)")
    conn.execute("insert into contact_outcomes values (?, 'O6', 'LT6', 'returned')",
                 [NIGHT - timedelta(days=3)])
    assert agencies.build_legal_review(conn, book.STRATEGY, NIGHT, NIGHT) == 10
    rows = {r[0]: r[1:] for r in conn.execute(
        "select account_id, track, track_reason, contactable, time_barred from legal_review "
        "order by account_id").fetchall()}
    assert rows == {
        "AC00000001": (None, "below_min_balance", True, False),
        "AC00000002": ("litigation", "litigation_min_balance", True, False),
        "AC00000003": ("payment_order", "contactable", True, False),
        "AC00000004": ("payment_order", "contactable", True, False),
        "AC00000005": ("arbitration", "uncontactable", False, False),
        "AC00000006": ("arbitration", "uncontactable", False, False),
        "AC00000007": ("litigation", "litigation_min_balance", True, False),
        "AC00000008": (None, "time_barred", True, True),
        "AC00000009": ("arbitration", "contactable", True, False),
        "AC00000010": ("arbitration", "uncontactable", False, False),
    }
    assert conn.execute("select last_right_party_contact from legal_review where account_id = "
                        "'AC00000004'").fetchone() == (NIGHT,)
    frames = section.collect(conn, NIGHT, {"legal_review"})
    legal = {(r.jurisdiction, r.track, r.currency): (r.accounts, r.balance)
             for r in frames["legal"].itertuples()}
    assert legal[("CN", "arbitration", "CNY")] == (3, Decimal("30000.00"))
    assert legal[("CN", "payment_order", "CNY")] == (2, Decimal("20000.00"))
    assert legal[("US", "none", "USD")] == (1, Decimal("2000.00"))


def test_payments_after_write_off_are_recorded_per_account_night_and_currency():
    n0, n1, n2 = NIGHT, NIGHT + timedelta(days=1), NIGHT + timedelta(days=2)

    def charged(day, paid, number=1, currency="CNY"):
        return book.snapshot(day, number, 200, status="charged_off", charge_off_date=n0,
                             currency=currency, payment_amount=paid, balance=9000.0)

    snaps = [
        # charged off on n0: the payment of n0 is before the write-off, n1 and n2 after it
        charged(n0, 50.0), charged(n1, 120.0), charged(n2, 30.0),
        charged(n0, 0.0, 2, "USD"), charged(n1, 0.0, 2, "USD"), charged(n2, 40.0, 2, "USD"),
        # written off by days past due (WO from n1, no charge-off date): paid on n1 (the
        # write-off night itself) does not count, n2 does
        book.snapshot(n0, 3, 180), book.snapshot(n1, 3, 181, payment_amount=10.0),
        book.snapshot(n2, 3, 182, payment_amount=25.0),
        # never written off
        book.snapshot(n2, 4, 100, payment_amount=99.0),
    ]
    conn = book.warehouse(snaps, [book.customer(n, n0) for n in range(1, 5)])
    agencies.build_placements(conn, book.STRATEGY, n0, n2)
    assert agencies.build_post_write_off_recoveries(conn, n0, n2) == 4
    rows = conn.execute(
        "select account_id, snapshot_date, currency, written_off_on, payment_amount, "
        "agency_id is not null from post_write_off_recoveries order by 1, 2").fetchall()
    assert rows == [
        ("AC00000001", n1, "CNY", n0, Decimal("120.00"), True),
        ("AC00000001", n2, "CNY", n0, Decimal("30.00"), False),
        ("AC00000002", n2, "USD", n0, Decimal("40.00"), True),
        ("AC00000003", n2, "CNY", n1, Decimal("25.00"), False),
    ]
    frames = section.collect(conn, n2, {"post_write_off_recoveries"})
    totals = {r.currency: (r.accounts_tonight, float(r.recovered_tonight), r.accounts_to_date,
                           float(r.recovered_to_date))
              for r in frames["post_write_off"].itertuples()}
    assert totals == {"CNY": (2, 55.0, 2, 175.0), "USD": (1, 40.0, 1, 40.0)}
