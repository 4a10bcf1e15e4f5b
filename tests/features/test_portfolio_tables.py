"""Roll rates, flow rates, portfolio figures and vintages on tiny books stated by hand."""

from datetime import date, timedelta

import duckdb
import pytest

from pipelines.lib.features.nightly_tables import rebuild_nights
from pipelines.lib.ingest.load import ensure_warehouse
from pipelines.lib.warehouse import load_macros, offending_rows


def snapshot(night, account, dpd=0, balance=100.0, status="open", product="revolving",
             open_date=date(2023, 1, 15), limit=1000.0):
    return {"snapshot_date": night, "account_id": account, "customer_id": "C" + account,
            "product": product, "open_date": open_date, "status": status, "currency": "CNY",
            "credit_limit": limit, "balance": balance, "amount_due": 10.0,
            "past_due_amount": balance if dpd else 0.0, "days_past_due": dpd,
            "next_due_date": None, "payment_amount": 0.0, "last_payment_date": None,
            "extra_columns": None, "source_file": "hand", "source_row": 1}


@pytest.fixture
def conn():
    connection = duckdb.connect()
    ensure_warehouse(connection)
    load_macros(connection)
    return connection


def load(conn, rows):
    import pyarrow as pa

    conn.register("hand_rows", pa.Table.from_pylist(rows))
    conn.execute("insert into account_snapshots by name select * from hand_rows")
    conn.unregister("hand_rows")


def matrix(conn, night, product="all"):
    return {(f, t): (a, float(b)) for f, t, a, b in conn.execute(
        "select from_bucket, to_bucket, accounts, balance from roll_rates "
        "where snapshot_date = ? and product = ? and currency = 'all'", [night, product]).fetchall()}


@pytest.mark.parametrize(("night", "earlier"), [
    (date(2024, 3, 31), date(2024, 2, 29)),   # leap year: clamp to the last day
    (date(2025, 3, 31), date(2025, 2, 28)),
    (date(2025, 3, 30), date(2025, 2, 28)),   # clamped too
    (date(2025, 11, 30), date(2025, 10, 31)),  # month end to month end
    (date(2025, 6, 15), date(2025, 5, 15)),
])
def test_one_month_earlier(conn, night, earlier):
    assert conn.execute("select one_month_earlier(?)", [night]).fetchone()[0] == earlier


def test_roll_rate_matrix_by_hand(conn):
    before, after = date(2024, 2, 29), date(2024, 3, 31)
    load(conn, [
        snapshot(before, "stays", 0), snapshot(after, "stays", 0),
        snapshot(before, "rolls", 0, 200), snapshot(after, "rolls", 15, 210),
        snapshot(before, "cures", 45, 300), snapshot(after, "cures", 0, 50),
        snapshot(before, "rolls_back", 75, 400), snapshot(after, "rolls_back", 20, 400),
        snapshot(before, "writes_off", 170, 500), snapshot(after, "writes_off", 200, 500),
        snapshot(before, "leaves", 10, 60),
        snapshot(before, "closes", 0, 0), snapshot(after, "closes", 0, 0, status="closed"),
        snapshot(after, "opens", 0, 70, open_date=date(2024, 3, 20)),
    ])
    rebuild_nights(conn, "roll_rates", "features/roll_rates", after, after)
    assert matrix(conn, after) == {
        ("M0", "M0"): (1, 100.0), ("M0", "M1"): (1, 200.0), ("M2", "M0"): (1, 300.0),
        ("M3", "M1"): (1, 400.0), ("M6", "WO"): (1, 500.0), ("M1", "gone"): (1, 60.0),
        ("M0", "closed"): (1, 0.0), ("new", "M0"): (1, 70.0),
    }
    assert conn.execute("select distinct from_date from roll_rates").fetchall() == [(before,)]
    for check in ("assert_roll_rate_rows_sum_to_one", "assert_roll_rate_totals_reconcile"):
        assert offending_rows(conn, check, {"start_date": after, "end_date": after}).empty


def test_row_shares_and_products(conn):
    before, after = date(2025, 5, 15), date(2025, 6, 15)
    load(conn, [snapshot(before, "a", 0, 100), snapshot(after, "a", 0, 100),
                snapshot(before, "b", 0, 300), snapshot(after, "b", 5, 300),
                snapshot(before, "c", 0, 50, product="installment"),
                snapshot(after, "c", 0, 50, product="installment")])
    rebuild_nights(conn, "roll_rates", "features/roll_rates", after, after)
    shares = {(f, t): (a, b) for f, t, a, b in conn.execute(
        "select from_bucket, to_bucket, share_of_row_accounts, share_of_row_balance "
        "from roll_rates where product = 'revolving' and currency = 'all'").fetchall()}
    assert shares == {("M0", "M0"): (0.5, 0.25), ("M0", "M1"): (0.5, 0.75)}
    assert matrix(conn, after, "installment") == {("M0", "M0"): (1, 50.0)}
    assert matrix(conn, after)[("M0", "M0")] == (2, 150.0)


def test_a_missed_comparison_night_uses_the_latest_within_three_days(conn):
    load(conn, [snapshot(date(2025, 5, 13), "a", 0), snapshot(date(2025, 6, 15), "a", 10)])
    rebuild_nights(conn, "roll_rates", "features/roll_rates", date(2025, 6, 15), date(2025, 6, 15))
    assert conn.execute("select from_date, from_bucket, to_bucket from roll_rates "
                        "where product = 'all' and currency = 'all'").fetchall() == [(date(2025, 5, 13), "M0", "M1")]


def test_no_matrix_without_a_comparison_night(conn):
    load(conn, [snapshot(date(2025, 5, 1), "a", 0), snapshot(date(2025, 6, 15), "a", 10)])
    assert rebuild_nights(conn, "roll_rates", "features/roll_rates",
                          date(2025, 6, 15), date(2025, 6, 15)) == 0


def test_flow_rates_chain_to_writeoff(conn):
    before, after = date(2025, 5, 31), date(2025, 6, 30)
    rows = []
    for i, (dpd_before, dpd_after) in enumerate([(0, 0), (0, 0), (0, 0), (0, 10), (10, 40),
                                                 (10, 0), (40, 70), (70, 100), (100, 130),
                                                 (130, 160), (160, 190)]):
        rows += [snapshot(before, f"a{i}", dpd_before), snapshot(after, f"a{i}", dpd_after)]
    load(conn, rows)
    rebuild_nights(conn, "roll_rates", "features/roll_rates", after, after)
    rebuild_nights(conn, "flow_rates", "features/flow_rates", after, after)
    flows = {f: (r, c) for f, r, c in conn.execute(
        "select from_bucket, flow_rate, chained_flow_to_writeoff from flow_rates "
        "where product = 'all' and currency = 'all'").fetchall()}
    assert flows["M0"][0] == pytest.approx(0.25)
    assert flows["M1"][0] == pytest.approx(0.5)
    assert all(flows[b][0] == pytest.approx(1.0) for b in ("M2", "M3", "M4", "M5", "M6"))
    assert flows["M0"][1] == pytest.approx(0.125)
    assert flows["M6"][1] == pytest.approx(1.0)


def test_portfolio_daily_by_hand(conn):
    night = date(2025, 6, 30)
    earlier = date(2025, 6, 29)
    load(conn, [
        snapshot(night, "a", 0, 100), snapshot(night, "b", 31, 200), snapshot(night, "c", 61, 300),
        snapshot(night, "d", 95, 400, product="installment"),
        snapshot(earlier, "e", 180, 500), snapshot(night, "e", 181, 500),
        snapshot(earlier, "f", 200, 50, status="charged_off"),
        snapshot(night, "f", 201, 50, status="charged_off"),
    ])
    rebuild_nights(conn, "portfolio_daily", "features/portfolio_daily", night, night)
    row = conn.execute("select * from portfolio_daily where product = 'all' and currency = 'all' "
                       "and snapshot_date = ?", [night]).df().iloc[0]
    assert (row.accounts, float(row.balance)) == (6, 1550.0)
    # the book excludes the written-off stock e (181 DPD) and f (charged off): a, b, c, d
    assert (row.book_accounts, float(row.book_balance)) == (4, 1000.0)
    assert (row.accounts_30plus, row.accounts_60plus, row.accounts_90plus) == (3, 2, 1)
    assert row.rate_30plus_accounts == pytest.approx(3 / 4)
    assert row.rate_90plus_balance == pytest.approx(400 / 1000)
    assert (row.npl_accounts, float(row.npl_balance), row.npl_ratio) == (1, 400.0, 0.4)
    assert (row.writeoff_accounts, float(row.writeoff_balance)) == (2, 550.0)
    assert (row.new_writeoffs, float(row.new_writeoff_balance)) == (1, 500.0)
    assert (row.month_writeoffs, float(row.month_writeoff_balance)) == (1, 500.0)
    assert (row.accounts_normal, row.accounts_special_mention, row.accounts_substandard,
            row.accounts_doubtful, row.accounts_loss) == (1, 2, 1, 0, 2)
    assert offending_rows(conn, "assert_portfolio_products_add_up",
                          {"start_date": night, "end_date": night}).empty


def test_vintage_curves_from_milestones(conn):
    rows = []
    nights = [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)]
    histories = {"x": [0, 40, 100], "y": [0, 0, 0], "z": [None, 0, 35]}
    opened = {"x": date(2025, 1, 10), "y": date(2025, 1, 20), "z": date(2025, 2, 5)}
    for account, dpds in histories.items():
        for night, dpd in zip(nights, dpds):
            if dpd is not None:
                rows.append(snapshot(night, account, dpd, open_date=opened[account]))
    load(conn, rows)
    before = ("features/create_account_milestones", "features/update_account_milestones")
    rebuild_nights(conn, "vintage_curves", "features/vintage_curves", nights[0], nights[-1],
                   before=before)
    curve = {(o, m): (a, e30, e90) for o, m, a, e30, e90 in conn.execute(
        "select open_month, months_on_book, accounts, ever_30plus, ever_90plus from vintage_curves "
        "where snapshot_date = ?", [nights[-1]]).fetchall()}
    january, february = date(2025, 1, 1), date(2025, 2, 1)
    assert curve == {
        (january, 0): (2, 0, 0), (january, 1): (2, 1, 0), (january, 2): (2, 1, 1),
        (february, 0): (1, 0, 0), (february, 1): (1, 1, 0),
    }
    # as of February, March's delinquency is not known yet
    early = conn.execute("select sum(ever_90plus) from vintage_curves where snapshot_date = ?",
                         [nights[1]]).fetchone()[0]
    assert early == 0


def test_every_column_of_every_feature_table_has_one_definition(conn):
    from pipelines.defs.features.assets import TABLES
    from pipelines.lib.features.data_dictionary import table_definitions

    night = date(2025, 6, 30)
    for spec in TABLES:
        rebuild_nights(conn, spec.name, f"features/{spec.name}", night, night, before=spec.before)
        columns = [name for name, *_ in conn.execute(f"describe {spec.name}").fetchall()]
        definitions = table_definitions(f"features/{spec.name}")
        assert sorted(columns) == sorted(definitions), spec.name
        assert all(len(text) >= 5 for text in definitions.values()), spec.name


def test_a_chunked_rebuild_equals_one_statement(conn):
    rows = []
    for day in range(70):
        night = date(2025, 1, 1) + timedelta(days=day)
        rows += [snapshot(night, "a", max(0, day - 20) if day < 50 else 0),
                 snapshot(night, "b", 0, balance=100 + day)]
    load(conn, rows)
    start, end = date(2025, 2, 1), date(2025, 3, 11)
    rebuild_nights(conn, "roll_rates", "features/roll_rates", start, end)
    whole = sorted(conn.execute("select * from roll_rates").fetchall())
    assert rebuild_nights(conn, "roll_rates", "features/roll_rates", start, end, chunk_days=7) \
        == len(whole)
    assert sorted(conn.execute("select * from roll_rates").fetchall()) == whole
