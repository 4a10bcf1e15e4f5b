"""Page 1 of the report, the glossary and `overdue summary` on the two-currency book of
tests/features/test_currency.py (3 CNY + 2 USD accounts; USD/CNY 7.0 landed on Friday only),
against figures worked out by hand.

Sunday 2026-11-29 (Friday's rate, 2 days back): CNY C1 1000 current, C2 2000 at 45 DPD, C3 500
written off tonight (181 DPD); USD U1 100 current, U2 300 at 100 DPD. Book (not written off):
4 accounts, 3000 + 400 x 7 = 5800 CNY; 30+: C2, U2 = 2 accounts, 2000 + 2100 = 4100 CNY;
90+ = NPL: U2, 2100 CNY. Written-off stock: C3, 500 CNY. 2026-12-07: no rate within 7 days.
"""

import json
import re
from datetime import date

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from pipelines.lib import definitions
from pipelines.lib.features.data_dictionary import table_definitions
from pipelines.lib.features.nightly_tables import rebuild_nights
from pipelines.lib.ingest.load import ensure_warehouse
from pipelines.lib.report import markov
from pipelines.lib.report.figures import gather
from pipelines.lib.report.ifrs9 import load_assumptions
from pipelines.lib.report.render import kpi_table, render_html, strings
from pipelines.lib.summary import warehouse_summary
from pipelines.lib.warehouse import load_macros
from tests.features.test_currency import FRIDAY, LATER, NIGHTS, SUNDAY, snapshot_rows

QUARANTINED = (  # (row, rule, currency, balance): row 7 broke two rules, it counts once
    (7, "days_past_due_zero_when_nothing_past_due", "USD", "50.00"),
    (7, "credit_limit_minimum", "USD", "50.00"),
    (8, "account_id_unique", "CNY", "20.00"),
    (9, "currency_valid_values", "US$", "12.00"),  # no such currency: not converted
    (10, "balance_type", "CNY", "12,5"),  # no readable amount
)


def build(path):
    conn = duckdb.connect(str(path))
    ensure_warehouse(conn)
    load_macros(conn)
    conn.register("hand_rows", pa.Table.from_pylist(snapshot_rows()))
    conn.execute("insert into account_snapshots by name select * from hand_rows")
    conn.execute("insert into fx_rates values (?, 'USD', 'CNY', '7.0', null, 'hand', 1)", [FRIDAY])
    for row, rule, currency, balance in QUARANTINED:
        record = json.dumps({"account_id": f"X{row}", "full_name": "never read",
                             "currency": currency, "balance": balance})
        conn.execute("insert into quarantine values ('account_snapshots', ?, 'hand.csv', 'x', ?, "
                     "'c', ?, 'm', ?)", [SUNDAY, row, rule, record])
    for table in ("portfolio_daily", "roll_rates", "flow_rates"):
        for night in NIGHTS:
            rebuild_nights(conn, table, f"features/{table}", night, night)
    return conn


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("currency_report") / "warehouse.duckdb"
    conn = build(path)
    yield conn, path
    conn.close()


def text_of(html: str, start: str, end: str) -> str:
    part = html[html.index(start): html.index(end)]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", part))


def kpi_rows(data, language="en") -> dict:
    table = kpi_table(data, strings()[language], language)
    return {row[0]: row[1] for row in table.rows}


def test_page_one_in_the_reporting_currency(book):
    conn, _ = book
    data = gather(conn, SUNDAY, load_assumptions())
    assert data.currency == "CNY"
    k = {name: figure["tonight"] for name, figure in data.kpis.items()}
    assert (k["book_accounts"], k["book_balance"]) == (4, 5800.0)
    assert (k["accounts"], k["balance"]) == (5, 6300.0)
    assert k["rate_30plus_accounts"] == 0.5 and k["rate_30plus_balance"] == pytest.approx(4100 / 5800)
    assert k["rate_90plus_accounts"] == 0.25  # U2 only: C3 is written off, not 90+
    assert (k["npl_balance"], k["npl_ratio"]) == (2100.0, pytest.approx(2100 / 5800))
    assert (k["writeoff_accounts"], k["writeoff_balance"]) == (1, 500.0)
    assert (k["new_writeoffs"], k["writeoffs_month"], k["writeoff_balance_month"]) == (1, 1, 500.0)
    ecl = k["ecl_on_book"]  # the IFRS 9 section's figure (stages 1-3); the ratios divide it
    assert ecl is not None and ecl > 0
    assert k["provision_to_loans"] == pytest.approx(ecl / 5800)
    assert k["provision_coverage"] == pytest.approx(ecl / 2100)
    shown = kpi_rows(data)
    assert shown["Loan balance"] == "¥5,800" and shown["NPL ratio"] == "36%"
    assert shown["Written-off stock (balance)"] == "¥500"
    html, _ = render_html(data, "en", "nightly")
    page = text_of(html, '<section id="section-1">', '<section id="section-2">')
    assert "1 USD = 7.0000 CNY (2026-11-27)" in page
    assert re.search(r"USD 2 \$400 50% 50% 75% 75% 0 \$0 0 \$0", page), page  # U2: 300 of 400
    assert re.search(r"CNY 2 ¥3,000 50% 0% 67% 0% 1 ¥500 1 ¥500", page), page


def test_page_one_states_the_quarantine(book):
    conn, _ = book
    data = gather(conn, SUNDAY, load_assumptions())
    q = data.quarantine_effect
    # rows 7 (USD 50) and 8 (CNY 20): 50 x 7 + 20 = 370 CNY; rows 9 and 10 have no amount
    assert (q["rows"], q["balance"], q["rows_without_balance"]) == (4, 370.0, 2)
    assert (q["accounts_with"], q["balance_with"]) == (9, 6670.0)
    assert q["accounts_change"] == 0 and q["change_within"]
    html, _ = render_html(data, "en", "nightly")
    page = text_of(html, '<section id="section-1">', '<section id="section-2">')
    assert "4 account snapshot rows were quarantined tonight (balance ¥370)" in page
    assert "at most 9 accounts and about ¥6,670" in page
    assert "2 of those rows have no readable balance or currency" in page
    assert "(+0) is within the quarantine's effect" in page.replace("&#39;", "'")
    assert "never read" not in html


def test_a_night_without_a_rate_shows_per_currency_only(book):
    conn, _ = book
    data = gather(conn, LATER, load_assumptions())
    k = {name: figure["tonight"] for name, figure in data.kpis.items()}
    assert k["book_accounts"] == 4 and k["rate_30plus_accounts"] == 0.5
    assert k["book_balance"] is None and k["npl_balance"] is None and k["balance"] is None
    assert k["provision_to_loans"] is None
    shown = kpi_rows(data)
    assert shown["Loan balance"] == "–" and shown["Loans on book (accounts)"] == "4"
    html, _ = render_html(data, "en", "nightly")
    page = text_of(html, '<section id="section-1">', '<section id="section-2">')
    assert "No exchange rate for USD" in page and "no total is shown" in page
    assert re.search(r"USD 2 \$400 ", page) and re.search(r"CNY 2 ¥3,000 ", page), page
    assert "3,400" not in page and "3,900" not in page  # never a raw sum of CNY and USD
    zh, _ = render_html(data, "zh-CN", "nightly")
    assert "USD 本日及前7天无汇率" in zh


def test_glossary_lists_every_page_one_figure_in_both_languages(book):
    conn, _ = book
    data = gather(conn, SUNDAY, load_assumptions())
    for language in definitions.LANGUAGES:
        html, _ = render_html(data, language, "nightly")
        glossary = text_of(html, '<section id="glossary">', "</body>")
        for row in kpi_table(data, strings()[language], language).rows:
            assert row[0] in glossary, (language, row[0])
    zh = dict(definitions.glossary("zh-CN"))
    assert "拨贷比" in zh and "拨备覆盖率" in zh and "不良贷款率" in zh
    assert "不良贷款余额" in zh["拨备覆盖率"] and "贷款余额" in zh["拨贷比"]


def test_sql_headers_match_the_definitions():
    header = table_definitions("features/portfolio_daily")
    for definition in definitions.DEFINITIONS:
        if definition.column:
            assert definition.column in header, definition.key
    assert "not written off" in header["book_balance"] or "the loan book" in header["book_balance"]
    assert "91+" in header["npl_accounts"] and "not written off" in header["npl_accounts"]
    assert "book_accounts" in header["rate_30plus_accounts"]


def test_overdue_summary_on_the_book(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    build(path).close()
    summary = warehouse_summary(path)
    lines = [line for line in summary.splitlines() if "loans on book" in line]
    # the latest night is 2026-12-07: no USD rate, so no CNY total; then each currency
    assert lines[0].startswith("book on 2026-12-07 (CNY): 4 loans on book, no CNY total: no "
                               "exchange rate for USD; 30+ 50.00%")
    assert lines[1].startswith("  CNY: 2 loans on book, loan balance 3,000.00 CNY")
    assert "1 written off (500.00 CNY)" in lines[1]  # C3, charged off
    assert lines[2].startswith("  USD: 2 loans on book, loan balance 400.00 USD; 30+ 50.00%")
    assert "3,400" not in summary and "3,900" not in summary


def test_markov_30plus_is_over_the_book_and_an_unpriced_matrix_chains_by_count():
    night, earlier = date(2026, 11, 29), date(2026, 10, 29)
    rows = pd.DataFrame([
        # 6 accounts a month ago: 3 stay M0, 1 M0 -> M1, 1 M2 -> M3, 1 M6 -> WO; WO -> WO 2
        (night, earlier, "M0", "M0", 3, 300.0), (night, earlier, "M0", "M1", 1, 100.0),
        (night, earlier, "M2", "M3", 1, None), (night, earlier, "M6", "WO", 1, 50.0),
        (night, earlier, "WO", "WO", 2, 80.0),
    ], columns=["snapshot_date", "from_date", "from_bucket", "to_bucket", "accounts", "balance"])
    matrix = markov.matrices_from_rows(rows)[night]
    # tonight: M0 3, M1 1, M3 1, WO 3; the book without WO is 5 accounts, 30+ is M3: 1 of 5
    assert markov.rate_30plus(matrix.state_accounts()) == pytest.approx(1 / 5)
    assert not matrix.priced  # the M2 row's converted balance is null
    assert (matrix.transition("balance") == matrix.transition("accounts")).all()
    assert matrix.transition("accounts")[0, 1] == pytest.approx(1 / 4)
