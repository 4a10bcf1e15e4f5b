"""Amounts in two currencies, never summed raw: portfolio_daily, roll_rates and flow_rates on a
book of 3 CNY + 2 USD accounts written here, with every expected figure worked out by hand.

Nights: 2026-10-29 (no rate), Fri 2026-11-27 (USD/CNY 7.0, the only rate landed), Sun
2026-11-29 (no file: the 7-day look-back uses Friday's), 2026-12-07 (10 days on: no rate).
"""

from datetime import date

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from pipelines.lib.features.nightly_tables import rebuild_nights
from pipelines.lib.ingest.load import ensure_warehouse
from pipelines.lib.warehouse import load_macros, offending_rows

MONTH_BEFORE, FRIDAY, SUNDAY, LATER = (date(2026, 10, 29), date(2026, 11, 27),
                                       date(2026, 11, 29), date(2026, 12, 7))
NIGHTS = (MONTH_BEFORE, FRIDAY, SUNDAY, LATER)

# account: (currency, product, {night: (dpd, status)}, balance)
BOOK = {
    "C1": ("CNY", "revolving", {n: (0, "open") for n in NIGHTS}, 1000),
    "C2": ("CNY", "installment", {MONTH_BEFORE: (15, "open"), FRIDAY: (43, "open"),
                                  SUNDAY: (45, "open"), LATER: (53, "open")}, 2000),
    # 179 DPD on Friday, 181 on Sunday: written off on Sunday (a new write-off in November)
    "C3": ("CNY", "revolving", {MONTH_BEFORE: (150, "open"), FRIDAY: (179, "open"),
                                SUNDAY: (181, "open"), LATER: (189, "charged_off")}, 500),
    "U1": ("USD", "revolving", {n: (0, "open") for n in NIGHTS}, 100),
    "U2": ("USD", "revolving", {MONTH_BEFORE: (70, "open"), FRIDAY: (98, "open"),
                                SUNDAY: (100, "open"), LATER: (108, "open")}, 300),
}


def snapshot_rows():
    rows = []
    for account, (currency, product, states, balance) in BOOK.items():
        for night, (dpd, status) in states.items():
            rows.append({
                "snapshot_date": night, "account_id": account, "customer_id": "CU" + account,
                "product": product, "open_date": date(2025, 1, 10), "status": status,
                "currency": currency, "credit_limit": 5000.0, "balance": float(balance),
                "amount_due": 0.0, "past_due_amount": float(balance) if dpd else 0.0,
                "days_past_due": dpd, "next_due_date": None, "payment_amount": 0.0,
                "last_payment_date": None, "extra_columns": None, "source_file": "hand",
                "source_row": 1})
    return rows


def build(rates=((FRIDAY, "USD", "CNY", "7.0"),)):
    conn = duckdb.connect()
    ensure_warehouse(conn)
    load_macros(conn)
    conn.register("hand_rows", pa.Table.from_pylist(snapshot_rows()))
    conn.execute("insert into account_snapshots by name select * from hand_rows")
    for rate_date, source, target, rate in rates:
        conn.execute("insert into fx_rates values (?, ?, ?, ?, null, 'hand', 1)",
                     [rate_date, source, target, rate])
    for table in ("portfolio_daily", "roll_rates", "flow_rates"):
        for night in NIGHTS:
            rebuild_nights(conn, table, f"features/{table}", night, night)
    return conn


@pytest.fixture(scope="module")
def conn():
    return build()


def book_row(conn, night, currency="all", product="all"):
    frame = conn.execute("select * from portfolio_daily where snapshot_date = ? and currency = ? "
                         "and product = ?", [night, currency, product]).df()
    assert len(frame) == 1
    return frame.iloc[0]


def money(value):
    return None if value is None or pd.isna(value) else float(value)


def test_per_currency_rows_stay_in_their_currency(conn):
    cny, usd = book_row(conn, SUNDAY, "CNY"), book_row(conn, SUNDAY, "USD")
    assert (cny.amount_currency, cny.accounts, money(cny.balance)) == ("CNY", 3, 3500.0)
    assert (cny.book_accounts, money(cny.book_balance)) == (2, 3000.0)  # C3 is written off
    assert (cny.accounts_30plus, money(cny.balance_30plus), cny.accounts_90plus) == (1, 2000.0, 0)
    assert (cny.writeoff_accounts, money(cny.writeoff_balance)) == (1, 500.0)
    assert (cny.new_writeoffs, money(cny.new_writeoff_balance)) == (1, 500.0)
    assert (cny.month_writeoffs, money(cny.month_writeoff_balance)) == (1, 500.0)
    assert (usd.amount_currency, usd.accounts, money(usd.balance)) == ("USD", 2, 400.0)
    assert (usd.accounts_90plus, money(usd.balance_90plus)) == (1, 300.0)
    assert (usd.npl_accounts, money(usd.npl_balance), usd.npl_ratio) == (1, 300.0, 0.75)


def test_book_row_converts_at_the_look_back_rate(conn):
    book = book_row(conn, SUNDAY)
    assert book.amount_currency == "CNY" and book.missing_rates is None
    assert book.fx_rates_used == "USD/CNY 7.0000 (2026-11-27)"
    assert book.accounts == 5
    assert money(book.balance) == 3500 + 400 * 7.0  # 6300, never the raw 3900
    assert money(book.book_balance) == 3000 + 400 * 7.0  # 5800
    assert (book.accounts_30plus, money(book.balance_30plus)) == (2, 2000 + 300 * 7.0)
    assert book.rate_30plus_accounts == 2 / 4
    assert book.rate_30plus_balance == pytest.approx(4100 / 5800)
    assert (book.accounts_90plus, money(book.balance_90plus)) == (1, 2100.0)
    assert book.npl_ratio == pytest.approx(2100 / 5800)
    assert (book.writeoff_accounts, money(book.writeoff_balance)) == (1, 500.0)
    revolving = book_row(conn, SUNDAY, "all", "revolving")  # C1, C3, U1, U2
    assert (revolving.accounts, money(revolving.balance)) == (4, 1500 + 400 * 7.0)


def test_a_night_without_a_rate_has_counts_but_no_total(conn):
    book = book_row(conn, LATER)
    assert book.missing_rates == "USD" and book.fx_rates_used is None
    assert (book.accounts, book.book_accounts, book.accounts_30plus) == (5, 4, 2)
    assert money(book.balance) is None and money(book.npl_balance) is None
    assert pd.isna(book.rate_30plus_balance)
    assert money(book_row(conn, LATER, "USD").balance) == 400.0
    # C3: charged off in December is not a new write-off (it was WO on its previous snapshot)
    assert book_row(conn, LATER, "CNY").month_writeoffs == 0


def test_roll_rates_by_currency_and_converted(conn):
    cells = {(c, f, t): (a, money(b)) for c, f, t, a, b in conn.execute(
        "select currency, from_bucket, to_bucket, accounts, balance from roll_rates "
        "where snapshot_date = ? and product = 'all'", [SUNDAY]).fetchall()}
    assert cells == {
        ("CNY", "M0", "M0"): (1, 1000.0), ("CNY", "M1", "M2"): (1, 2000.0),
        ("CNY", "M5", "WO"): (1, 500.0),
        ("USD", "M0", "M0"): (1, 100.0), ("USD", "M3", "M4"): (1, 300.0),
        ("all", "M0", "M0"): (2, 1000 + 100 * 7.0), ("all", "M1", "M2"): (1, 2000.0),
        ("all", "M5", "WO"): (1, 500.0), ("all", "M3", "M4"): (1, 2100.0),
    }
    flows = {(c, f): r for c, f, r in conn.execute(
        "select currency, from_bucket, flow_rate from flow_rates where snapshot_date = ? "
        "and product = 'all'", [SUNDAY]).fetchall()}
    assert flows[("all", "M0")] == 0 and flows[("all", "M3")] == 1.0
    assert flows[("USD", "M3")] == 1.0 and flows[("CNY", "M3")] is None


def test_the_checks_pass():
    conn = build()
    for check in ("assert_portfolio_products_add_up", "assert_roll_rate_rows_sum_to_one",
                  "assert_roll_rate_totals_reconcile"):
        assert offending_rows(conn, check, {"start_date": MONTH_BEFORE, "end_date": LATER}).empty


def test_without_any_rate_the_book_has_no_amounts():
    conn = build(rates=())
    book = book_row(conn, SUNDAY)
    assert book.missing_rates == "USD" and money(book.balance) is None
    balances = conn.execute("select count(*), count(balance) from roll_rates where currency = "
                            "'all' and snapshot_date = ?", [SUNDAY]).fetchone()
    assert balances[0] > 0 and balances[1] == 0
    flows = conn.execute("select count(flow_rate) from flow_rates where currency = 'all' "
                         "and snapshot_date = ?", [SUNDAY]).fetchone()[0]
    assert flows == 0
    assert offending_rows(conn, "assert_portfolio_products_add_up",
                          {"start_date": MONTH_BEFORE, "end_date": LATER}).empty


def test_an_inverted_pair_is_named_as_such():
    conn = build(rates=((FRIDAY, "CNY", "USD", "0.125"),))  # 1 CNY = 0.125 USD: 1 USD = 8 CNY
    book = book_row(conn, SUNDAY)
    assert book.fx_rates_used == "USD/CNY 8.0000 (2026-11-27, the inverse of CNY/USD)"
    assert money(book.balance) == 3500 + 400 * 8.0
