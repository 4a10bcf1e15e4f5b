"""IFRS 9 on a book of a few accounts stated by hand, in DuckDB: staging (written-off accounts
outside stage 3), EAD per currency and converted, the discounted 12-month and lifetime ECL from a
tiny roll chain worked out by hand, scenario weighting, the stage-transfer matrix and the ECL
backtest; the assumptions file's checks; the summary sentences and number formats."""

from datetime import date
from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pipelines.lib.fx import NightRates, Rate
from pipelines.lib.ingest.load import ensure_warehouse
from pipelines.lib.report import formatting as fmt
from pipelines.lib.report import ifrs9, markov, narrative
from pipelines.lib.report.figures import one_month_earlier
from pipelines.lib.report.ifrs9 import (
    Assumptions,
    Scenario,
    expected_credit_loss,
    ifrs9_figures,
    load_assumptions,
    transfer_matrix,
)
from pipelines.lib.report.markov import STATES, TO_STATES, RollMatrix
from pipelines.lib.report.render import ecl_tables, strings
from pipelines.lib.warehouse import load_macros

NIGHT = date(2026, 5, 20)
EARLIER = date(2026, 4, 20)
BASE = Assumptions(stage_2_from_bucket="M1", stage_3_from_bucket="M3",
                   early_warning_is_significant_increase=True,
                   lgd={"default": 0.5, "revolving": 0.6}, ccf=0.5,
                   pd_12m_months=2, lifetime_months=3, eir={"default": 0.12},
                   stage_3_recovery_months=1)
SCENARIOS = (Scenario("base", 0.5, 1.0), Scenario("downside", 0.3, 2.0, 1.5),
             Scenario("upside", 0.2, 0.5))
USD_IN_CNY = NightRates(NIGHT, "CNY", {"USD": Rate("USD", 7.0, NIGHT, "USD/CNY")})
NO_USD_RATE = NightRates(NIGHT, "CNY", {})


def snapshot(night, account, currency, product, status, dpd, balance, limit):
    return {"snapshot_date": night, "account_id": account, "customer_id": "C" + account,
            "product": product, "open_date": date(2025, 1, 1), "status": status,
            "currency": currency, "credit_limit": limit, "balance": balance, "amount_due": 0.0,
            "past_due_amount": balance if dpd else 0.0, "days_past_due": dpd,
            "next_due_date": None, "payment_amount": 0.0, "last_payment_date": None,
            "extra_columns": None, "source_file": "hand", "source_row": 1}


BOOK = [
    # tonight
    snapshot(NIGHT, "A", "CNY", "revolving", "open", 0, 400.0, 1000.0),     # M0 stage 1, EAD 700
    snapshot(NIGHT, "B", "CNY", "installment", "open", 10, 500.0, 500.0),   # M1 stage 2, EAD 500
    snapshot(NIGHT, "C", "USD", "revolving", "open", 100, 900.0, 1000.0),   # M4 stage 3, EAD 950
    snapshot(NIGHT, "D", "USD", "revolving", "charged_off", 200, 300.0, 1000.0),  # written off
    snapshot(NIGHT, "E", "CNY", "installment", "closed", 0, 0.0, 0.0),      # closed, owes nothing
    # a month earlier: A is new tonight, F has gone
    snapshot(EARLIER, "B", "CNY", "installment", "open", 0, 450.0, 500.0),  # stage 1 -> 2
    snapshot(EARLIER, "C", "USD", "revolving", "open", 40, 880.0, 1000.0),  # M2 stage 2 -> 3
    snapshot(EARLIER, "D", "USD", "revolving", "open", 160, 310.0, 1000.0),  # M6 stage 3 -> WO
    snapshot(EARLIER, "E", "CNY", "installment", "open", 0, 50.0, 100.0),   # stage 1 -> closed
    snapshot(EARLIER, "F", "USD", "revolving", "open", 5, 80.0, 100.0),     # M1 stage 2 -> gone
]

# A 2-state roll chain, by hand: from M0 10 % reach WO each month and 90 % stay; from M1 half
# cure to M0, half reach WO. Marginal write-off probability of month m:
#   M0: 0.1, 0.9 x 0.1 = 0.09, 0.9^2 x 0.1 = 0.081
#   M1: 0.5, 0.5 x 0.1 = 0.05, 0.5 x 0.9 x 0.1 = 0.045
# EIR 12 % a year = 1 % a month: DF(1) = 1 / 1.01, DF(2) = 1 / 1.01^2, DF(3) = 1 / 1.01^3.
MARGINAL = {"M0": np.array([0.1, 0.09, 0.081]), "M1": np.array([0.5, 0.05, 0.045])}
A_12M = 0.1 / 1.01 + 0.09 / 1.01**2            # A, stage 1: months 1-2, discounted
B_LIFETIME = 0.5 / 1.01 + 0.05 / 1.01**2 + 0.045 / 1.01**3  # B, stage 2: months 1-3
A_ECL = 0.6 * 700 * A_12M                      # revolving LGD 0.6, EAD 700
B_ECL = 0.5 * 500 * B_LIFETIME                 # installment: default LGD 0.5, EAD 500
C_ECL = 0.6 * 950 * 1.0 / 1.01                 # stage 3: PD 1, one recovery month discounted


def transition(rows: dict[str, dict[str, float]]) -> np.ndarray:
    weights = np.zeros((len(STATES), len(TO_STATES)))
    for state, cells in rows.items():
        for to_state, weight in cells.items():
            weights[STATES.index(state), TO_STATES.index(to_state)] = weight
    return weights


@pytest.fixture
def conn():
    connection = duckdb.connect()
    ensure_warehouse(connection)
    load_macros(connection)
    connection.register("hand_rows", pa.Table.from_pylist(BOOK))
    connection.execute("insert into account_snapshots by name select * from hand_rows")
    connection.unregister("hand_rows")
    return connection


def exposure_rows(conn, assumptions=BASE, with_scores=False):
    return ifrs9.exposure(conn, NIGHT, assumptions, MARGINAL, with_scores, with_eir=False)


def test_monthly_marginal_probabilities_of_a_two_state_chain():
    chain = transition({"M0": {"M0": 0.9, "WO": 0.1}, "M1": {"M0": 0.5, "WO": 0.5}})
    marginal = markov.monthly_writeoff_probabilities(markov.transition_matrix(chain), 3)
    assert marginal["M0"] == pytest.approx([0.1, 0.09, 0.081])
    assert marginal["M1"] == pytest.approx([0.5, 0.05, 0.045])
    assert marginal["M1"].sum() == pytest.approx(
        markov.probability_of_writeoff(markov.transition_matrix(chain), 3)["M1"])


def test_written_off_accounts_are_not_stage_3_and_ecl_is_discounted(conn):
    ecl = expected_credit_loss(exposure_rows(conn), BASE, USD_IN_CNY).set_index("stage")
    assert ecl["accounts"].to_dict() == {1: 1, 2: 1, 3: 1, "written_off": 1, "all": 4}
    assert ecl.loc[1, "ecl"] == pytest.approx(A_ECL)                # 78.64
    assert ecl.loc[2, "ecl"] == pytest.approx(B_ECL)                # 146.94
    assert ecl.loc[3, "ead"] == pytest.approx(950 * 7.0)            # USD 950 at 7 CNY
    assert ecl.loc[3, "ecl"] == pytest.approx(C_ECL * 7.0)          # 3,950.50
    # excluded: a write-off derecognises; its balance is shown, no EAD, no ECL
    assert ecl.loc["written_off", "balance"] == pytest.approx(300 * 7.0)
    assert ecl.loc["written_off", "ead"] == 0 and ecl.loc["written_off", "ecl"] == 0
    assert ecl.loc["all", "ead"] == pytest.approx(700 + 500 + 950 * 7.0)
    assert ecl.loc["all", "coverage"] == pytest.approx(
        (A_ECL + B_ECL + C_ECL * 7) / (1200 + 950 * 7))
    assert ecl.loc[3, "share_of_balance"] == pytest.approx(900 * 7 / (900 + 2100 + 6300))
    undiscounted = expected_credit_loss(exposure_rows(conn), BASE, USD_IN_CNY).set_index("stage")
    assert undiscounted.loc[1, "ecl_undiscounted"] == pytest.approx(0.6 * 700 * 0.19)


def test_written_off_balance_times_lgd_when_chosen(conn):
    chosen = Assumptions(**{**BASE.__dict__, "written_off_ecl": "lgd_on_balance"})
    by_currency = ifrs9.ecl_by_currency(exposure_rows(conn, chosen), chosen)
    usd = by_currency[by_currency["currency"] == "USD"].set_index("stage")
    assert usd.loc["written_off", "ead"] == pytest.approx(300)
    assert usd.loc["written_off", "ecl"] == pytest.approx(0.6 * 300)  # not discounted
    assert usd.loc["all", "ecl"] == pytest.approx(C_ECL + 180)


def test_every_amount_per_currency_and_no_total_without_a_rate(conn):
    rows = exposure_rows(conn)
    by_currency = ifrs9.ecl_by_currency(rows, BASE).set_index(["currency", "stage"])
    assert by_currency.loc[("CNY", "all"), "ead"] == pytest.approx(1200)
    assert by_currency.loc[("USD", "all"), "ead"] == pytest.approx(950)
    assert by_currency.loc[("USD", "all"), "balance"] == pytest.approx(1200)
    assert by_currency.loc[("CNY", "all"), "ecl"] == pytest.approx(A_ECL + B_ECL)
    unconverted = expected_credit_loss(rows, BASE, NO_USD_RATE).set_index("stage")
    assert unconverted.loc["all", "accounts"] == 4
    assert unconverted[["balance", "ead", "ecl"]].isna().all().all()
    with pytest.raises(ValueError, match="CNY, USD: a total needs exchange rates"):
        expected_credit_loss(rows, BASE)


def test_scenarios_are_probability_weighted(conn):
    weighted = Assumptions(**{**BASE.__dict__, "scenarios": SCENARIOS})
    rows = exposure_rows(conn, weighted)
    # downside: PD x 2 (B's lifetime PD 0.595 x 2 > 1: capped at 1, so x 1 / 0.595), LGD x 1.5
    down = {"A": 0.9 * 700 * 2 * A_12M, "B": 0.75 * 500 * B_LIFETIME / 0.595,
            "C": 0.9 * 950 / 1.01}
    up = {"A": 0.6 * 700 * 0.5 * A_12M, "B": 0.5 * 500 * 0.5 * B_LIFETIME, "C": C_ECL}
    base = {"A": A_ECL, "B": B_ECL, "C": C_ECL}
    table = ifrs9.scenario_ecl(rows, weighted, USD_IN_CNY).set_index("scenario")
    assert table.loc["downside", "CNY"] == pytest.approx(down["A"] + down["B"])
    assert table.loc["upside", "USD"] == pytest.approx(up["C"])
    expected = {k: 0.5 * base[k] + 0.3 * down[k] + 0.2 * up[k] for k in base}
    assert table.loc["weighted", "CNY"] == pytest.approx(expected["A"] + expected["B"])
    assert table.loc["weighted", "total"] == pytest.approx(
        expected["A"] + expected["B"] + 7 * expected["C"])
    total = expected_credit_loss(rows, weighted, USD_IN_CNY).set_index("stage")
    assert total.loc[2, "ecl"] == pytest.approx(expected["B"])
    assert total.loc["all", "ecl"] == pytest.approx(table.loc["weighted", "total"])


def test_model_scores_rank_accounts_within_their_bucket_and_flag_sicr(conn):
    conn.execute("create table account_scores (snapshot_date date, account_id varchar, "
                 "probability double, risk_grade varchar, early_warning boolean, "
                 "model_version varchar)")
    conn.executemany("insert into account_scores values (?, ?, ?, ?, ?, 'v0001')", [
        (NIGHT, "A", 0.10, "D", True), (NIGHT, "B", 0.50, "E", False),
        (NIGHT, "C", 0.9, "E", False)])
    ecl = ifrs9.ecl_by_currency(exposure_rows(conn, with_scores=True), BASE)
    cny = ecl[ecl["currency"] == "CNY"].set_index("stage")
    # A is early-warning: stage 2, lifetime (3 months) of M0's curve, its own score = its
    # bucket's mean, so scale 1
    a_lifetime = 0.1 / 1.01 + 0.09 / 1.01**2 + 0.081 / 1.01**3
    assert cny.loc[1, "accounts"] == 0 and cny.loc[2, "accounts"] == 2
    assert cny.loc[2, "ecl"] == pytest.approx(0.6 * 700 * a_lifetime + B_ECL)


def test_stage_transfer_and_ecl_backtest_end_to_end(conn):
    # the latest matrix (balance weights) gives MARGINAL's chain; the one a month earlier the
    # backtest's expectations (accounts and balance alike)
    latest = transition({"M0": {"M0": 90, "WO": 10}, "M1": {"M0": 50, "WO": 50}})
    earlier = transition({"M0": {"M0": 80, "M1": 10, "closed": 5, "gone": 5},
                          "M1": {"M0": 30, "M1": 40, "M2": 30},
                          "M2": {"M1": 20, "M2": 30, "M3": 50},
                          "M6": {"M6": 40, "WO": 60}})
    none = np.zeros(len(STATES))
    chain = [RollMatrix(EARLIER, date(2026, 3, 20), earlier, earlier, none, none),
             RollMatrix(NIGHT, EARLIER, latest, latest, none, none)]
    figures = ifrs9_figures(conn, NIGHT, BASE, chain, with_scores=False, rates=USD_IN_CNY)
    assert figures.total.set_index("stage").loc["all", "ecl"] == pytest.approx(
        A_ECL + B_ECL + 7 * C_ECL)
    assert figures.chain_pd["12m"]["M0"] == pytest.approx(0.19)
    assert figures.eir_accounts == {"configured": 3}

    counts = transfer_matrix(figures.transfer)
    cells = {(i, j): counts.at[i, j] for i in counts.index for j in counts.columns
             if counts.at[i, j]}
    assert cells == {("new", "1"): 1, ("1", "2"): 1, ("2", "3"): 1, ("3", "written_off"): 1,
                     ("1", "closed"): 1, ("2", "gone"): 1}
    usd = transfer_matrix(figures.transfer, "balance_then", "USD")
    assert usd.at["2", "3"] == 880 and usd.at["3", "written_off"] == 310 and usd.at["2", "gone"] == 80

    backtest = figures.backtest.set_index(["measure", "unit"])
    # write-offs from stages 1-3 a month earlier: B, E (M0: 0), F (M1: 0), C (M2: 0), D (M6: 0.6)
    assert backtest.loc[("writeoffs", "accounts"), "expected"] == pytest.approx(0.6)
    assert backtest.loc[("writeoffs", "accounts"), "actual"] == 1
    assert backtest.loc[("writeoffs", "accounts"), "ratio"] == pytest.approx(1 / 0.6)
    assert backtest.loc[("writeoffs", "USD"), "expected"] == pytest.approx(0.6 * 310)
    assert np.isnan(backtest.loc[("writeoffs", "CNY"), "ratio"])  # nothing expected
    # into stage 3 from stages 1-2: only C (M2 -> M3..M6 with 0.5) could; it did
    assert backtest.loc[("into_stage_3", "accounts"), "expected"] == pytest.approx(0.5)
    assert backtest.loc[("into_stage_3", "USD"), "ratio"] == pytest.approx(880 / (0.5 * 880))


def test_staging_rule_and_shipped_assumptions():
    assert [BASE.stage(b) for b in ("M0", "M1", "M2", "M3", "M6", "WO")] == \
        [1, 2, 2, 3, 3, "written_off"]
    assert BASE.stage("M0", early_warning=True) == 2
    shipped = load_assumptions()
    assert shipped.lgd_for("no-such-product") == shipped.lgd["default"]
    assert 0 < shipped.ccf <= 1
    assert {s.name for s in shipped.scenarios} >= {"base", "downside", "upside"}
    assert sum(s.weight for s in shipped.scenarios) == pytest.approx(1)


def test_assumptions_are_checked(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("stage_2_from_bucket: M4\nstage_3_from_bucket: M3\n"
                    "early_warning_is_significant_increase: true\nlgd: {revolving: 1.5}\n"
                    "ccf: 0.5\npd_12m_months: 12\nlifetime_months: 36\n"
                    "scenarios:\n  base: {weight: 0.6, pd_multiplier: 1}\n"
                    "  downside: {weight: 0.3, pd_multiplier: 1.5}\n")
    with pytest.raises(ValueError, match=(
            r"bad\.yaml: .*after stage_3.*lgd needs a `default`.*between 0 and 1"
            r".*scenario weights sum to 0\.9, not 1")):
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
                ("npl_ratio", 0.01, 0.01),
                ("book_accounts", 10_500, 10_000),      # +5 %
                ("book_balance", 2.0e6, 2.2e6))}        # -9 %
    moved = narrative.movements(kpis, {"month_earlier": date(2026, 4, 20)}, [],
                                pd.DataFrame(), None)
    assert [m.key for m in moved[:3]] == ["rate_30plus_balance", "rate_30plus_accounts",
                                          "book_balance"]
    assert narrative.sentence(moved[0], "en") == (
        "The 30+ rate by balance rose from 3.0% to 6.0% (+3.00 pp) since 20 Apr 2026.")
    assert narrative.sentence(moved[0], "zh-CN") == (
        "30+逾期率（按余额）较2026-04-20上升3.00个百分点，由3.0%变为6.0%。")
    assert narrative.sentence(moved[2], "en", "CNY") == (
        "The loan balance fell from ¥2.20M to ¥2.00M (-9.1%) since 20 Apr 2026.")


def test_numbers_for_people():
    assert fmt.percent(0.0512) == "5.1%" and fmt.percent(0.00123) == "0.12%"
    assert fmt.percent(0.25) == "25%" and fmt.percent(None) == "–"
    assert fmt.money(1234567.8, "CNY") == "¥1,234,568" and fmt.number(1234567) == "1,234,567"
    assert fmt.compact_money(123_456_789, "CNY", "zh-CN") == "¥1.23亿"
    assert fmt.compact_money(123_456_789, "USD", "en") == "$123.46M"
    assert fmt.change(0.05, 0.04, "rate") == "+1.00 pp"
    assert fmt.change(90, 100, "count") == "-10.0%"


def test_section_8_tables_per_currency_and_a_total_only_with_every_rate(conn):
    chain = [RollMatrix(NIGHT, EARLIER, transition({"M0": {"M0": 90, "WO": 10},
                                                    "M1": {"M0": 50, "WO": 50}}),
                        transition({"M0": {"M0": 90, "WO": 10}, "M1": {"M0": 50, "WO": 50}}),
                        np.zeros(len(STATES)), np.zeros(len(STATES)))]
    text = strings()["en"]
    for rates, has_total in ((USD_IN_CNY, True), (NO_USD_RATE, False)):
        figures = ifrs9_figures(conn, NIGHT, BASE, chain, with_scores=False, rates=rates)
        data = SimpleNamespace(ifrs9=figures, assumptions=BASE, chain_pd=figures.chain_pd)
        tables = ecl_tables(data, text)
        assert [heading for heading, _ in tables["currencies"]] == [
            "CNY: stages, exposure and ECL", "USD: stages, exposure and ECL"]
        usd = tables["currencies"][1][1]
        assert [row[0] for row in usd.rows] == ["Stage 1", "Stage 2", "Stage 3", "Written off",
                                                "Total"]
        assert usd.rows[2][3:5] == ["$950", "$564"]  # stage 3: EAD, ECL 0.6 x 950 / 1.01
        assert (tables["total"] is not None) == has_total
        assert ("no book total" in tables["notes"]["currency"]) == (not has_total)
        assert "months 1–2 in stage 1" in tables["notes"]["discounting"]
        assert "1-month recovery horizon" in tables["notes"]["discounting"]
        assert tables["backtest"] is None  # no matrix a month earlier
    assert tables["notes"]["currency"] == (
        "No exchange rate from USD into CNY tonight: no book total, per-currency figures only.")
