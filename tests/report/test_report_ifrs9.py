"""IFRS 9 staging and ECL = PD x LGD x EAD on a book of five accounts stated by hand, in DuckDB;
the summary sentences and number formats."""

from datetime import date

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from pipelines.lib.ingest.load import ensure_warehouse
from pipelines.lib.report import formatting as fmt
from pipelines.lib.report import narrative
from pipelines.lib.report.figures import _exposure, one_month_earlier
from pipelines.lib.report.ifrs9 import Assumptions, expected_credit_loss, load_assumptions
from pipelines.lib.warehouse import load_macros

NIGHT = date(2026, 5, 20)
ASSUMPTIONS = Assumptions(stage_2_from_bucket="M1", stage_3_from_bucket="M3",
                          early_warning_is_significant_increase=True,
                          lgd={"default": 0.5, "revolving": 0.6}, ccf=0.5,
                          pd_12m_months=12, lifetime_months=36)
CHAIN_PD = {"12m": {"M0": 0.02, "M1": 0.2, "M2": 0.4},
            "lifetime": {"M0": 0.05, "M1": 0.3, "M2": 0.5}}


def snapshot(account, product, status, dpd, balance, limit):
    return {"snapshot_date": NIGHT, "account_id": account, "customer_id": "C" + account,
            "product": product, "open_date": date(2025, 1, 1), "status": status,
            "currency": "CNY", "credit_limit": limit, "balance": balance, "amount_due": 0.0,
            "past_due_amount": balance if dpd else 0.0, "days_past_due": dpd,
            "next_due_date": None, "payment_amount": 0.0, "last_payment_date": None,
            "extra_columns": None, "source_file": "hand", "source_row": 1}


BOOK = [
    snapshot("A", "revolving", "open", 0, 400.0, 1000.0),      # M0, EAD 400 + 0.5 x 600 = 700
    snapshot("B", "installment", "open", 10, 500.0, 500.0),    # M1: stage 2, EAD 500
    snapshot("C", "revolving", "open", 100, 900.0, 1000.0),    # M4: stage 3, EAD 950
    snapshot("D", "revolving", "charged_off", 200, 300.0, 1000.0),  # WO: stage 3, EAD 300
    snapshot("E", "installment", "closed", 0, 0.0, 0.0),       # M0, nothing owed
]


@pytest.fixture
def conn():
    connection = duckdb.connect()
    ensure_warehouse(connection)
    load_macros(connection)
    connection.register("hand_rows", pa.Table.from_pylist(BOOK))
    connection.execute("insert into account_snapshots by name select * from hand_rows")
    connection.unregister("hand_rows")
    return connection


def by_stage(conn, with_scores):
    exposure = _exposure(conn, NIGHT, ASSUMPTIONS, CHAIN_PD, with_scores)
    return expected_credit_loss(exposure, ASSUMPTIONS).set_index("stage")


def test_ecl_from_the_roll_chain_by_hand(conn):
    ecl = by_stage(conn, with_scores=False)
    assert ecl.loc[1, "accounts"] == 2 and ecl.loc[1, "ead"] == pytest.approx(700)
    assert ecl.loc[1, "ecl"] == pytest.approx(0.6 * 0.02 * 700)  # A; E owes nothing
    assert ecl.loc[2, "ecl"] == pytest.approx(0.5 * 0.3 * 500)  # B: lifetime PD, installment
    assert ecl.loc[3, "ead"] == pytest.approx(950 + 300)  # no undrawn limit once charged off
    assert ecl.loc[3, "ecl"] == pytest.approx(0.6 * 1.0 * 1250)  # PD 1 when credit-impaired
    assert ecl.loc["all", "ecl"] == pytest.approx(8.4 + 75 + 750)
    assert ecl.loc["all", "coverage"] == pytest.approx(833.4 / 2450)
    assert ecl.loc[3, "share_of_balance"] == pytest.approx(1200 / 2100)


def test_model_scores_rank_accounts_within_their_bucket_and_flag_sicr(conn):
    conn.execute("create table account_scores (snapshot_date date, account_id varchar, "
                 "probability double, risk_grade varchar, early_warning boolean, "
                 "model_version varchar)")
    conn.executemany("insert into account_scores values (?, ?, ?, ?, ?, 'v0001')", [
        (NIGHT, "A", 0.10, "D", True), (NIGHT, "E", 0.02, "A", False),
        (NIGHT, "B", 0.50, "E", False), (NIGHT, "D", None, None, False)])
    ecl = by_stage(conn, with_scores=True)
    # A is early-warning: stage 2, lifetime PD of M0 scaled by 0.10 / mean of M0 (0.06)
    a_ecl = 0.6 * (0.05 * 0.10 / 0.06) * 700
    assert ecl.loc[1, "accounts"] == 1 and ecl.loc[1, "ecl"] == pytest.approx(0.0)
    assert ecl.loc[2, "accounts"] == 2
    assert ecl.loc[2, "ecl"] == pytest.approx(a_ecl + 0.5 * 0.3 * 500)
    assert ecl.loc[3, "ecl"] == pytest.approx(750)


def test_staging_rule_and_shipped_assumptions():
    assert [ASSUMPTIONS.stage(b) for b in ("M0", "M1", "M2", "M3", "M6", "WO")] == \
        [1, 2, 2, 3, 3, 3]
    assert ASSUMPTIONS.stage("M0", early_warning=True) == 2
    shipped = load_assumptions()
    assert shipped.lgd_for("no-such-product") == shipped.lgd["default"]
    assert 0 < shipped.ccf <= 1


def test_assumptions_are_checked(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("stage_2_from_bucket: M4\nstage_3_from_bucket: M3\n"
                    "early_warning_is_significant_increase: true\nlgd: {revolving: 1.5}\n"
                    "ccf: 0.5\npd_12m_months: 12\nlifetime_months: 36\n")
    with pytest.raises(ValueError, match="after stage_3.*lgd needs a `default`.*between 0 and 1"):
        load_assumptions(path)


@pytest.mark.parametrize(("night", "earlier"), [
    (date(2024, 3, 31), date(2024, 2, 29)), (date(2025, 3, 30), date(2025, 2, 28)),
    (date(2025, 11, 30), date(2025, 10, 31)), (date(2025, 6, 15), date(2025, 5, 15))])
def test_one_month_earlier_matches_the_sql_macro(night, earlier):
    assert one_month_earlier(night) == earlier


def test_summary_sentences_name_what_moved_most():
    kpis = {key: {"tonight": now, "previous_night": None, "month_earlier": before}
            for key, now, before in (
                ("rate_30plus_accounts", 0.05, 0.04),   # +25 %
                ("rate_60plus_accounts", 0.030, 0.029),
                ("rate_90plus_accounts", 0.02, 0.02),
                ("rate_30plus_balance", 0.06, 0.03),    # +100 %: moved most
                ("accounts", 10_500, 10_000),           # +5 %
                ("balance", 2.0e6, 2.2e6))}             # -9 %
    moved = narrative.movements(kpis, {"month_earlier": date(2026, 4, 20)}, [],
                                pd.DataFrame(), None)
    assert [m.key for m in moved[:3]] == ["rate_30plus_balance", "rate_30plus_accounts",
                                          "balance"]
    assert narrative.sentence(moved[0], "en") == (
        "The 30+ rate by balance rose from 3.0% to 6.0% (+3.00 pp) since 20 Apr 2026.")
    assert narrative.sentence(moved[0], "zh-CN") == (
        "30+逾期率（按余额）较2026-04-20上升3.00个百分点，由3.0%变为6.0%。")
    assert narrative.sentence(moved[2], "en", "CNY") == (
        "The book's balance fell from ¥2.20M to ¥2.00M (-9.1%) since 20 Apr 2026.")


def test_numbers_for_people():
    assert fmt.percent(0.0512) == "5.1%" and fmt.percent(0.00123) == "0.12%"
    assert fmt.percent(0.25) == "25%" and fmt.percent(None) == "–"
    assert fmt.money(1234567.8, "CNY") == "¥1,234,568" and fmt.number(1234567) == "1,234,567"
    assert fmt.compact_money(123_456_789, "CNY", "zh-CN") == "¥1.23亿"
    assert fmt.compact_money(123_456_789, "USD", "en") == "$123.46M"
    assert fmt.change(0.05, 0.04, "rate") == "+1.00 pp"
    assert fmt.change(90, 100, "count") == "-10.0%"
