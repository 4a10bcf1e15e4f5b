"""Credit-line actions against over-extension on a hand-made book: which account gets which
action, its recommended limit and the undrawn limit taken away, per currency, all stated by hand
from the default strategy's credit_line (reduce M0 high risk or early warning at >= 50% drawn to
balance x 1.1 rounded up to 100 CNY / 10 USD / a cent otherwise; freeze high-risk M1, every M2+
and every over-limit account). NIGHT is 2026-05-03; a limit is 10,000 CNY unless said.
"""

from datetime import date
from decimal import Decimal

import pytest

from pipelines.lib.collections import tiering
from pipelines.lib.sql import render_sql
from pipelines.lib.warehouse import offending_rows, query
from tests.collections.book import STRATEGY, customer, snapshot, warehouse

NIGHT = date(2026, 5, 3)
ONE_NIGHT = {"start_date": NIGHT, "end_date": NIGHT}

# number -> (dpd, status, currency, limit, balance, probability, early warning,
#            expected (action, recommended limit, undrawn limit, exposure removed, reason) or None)
# M0 has 20 scored accounts (these 8 and fillers 40-51): the top 5% is 1 account, number 1.
# M1 has 4 scored (5-8): the top 30% is 1 account, number 5.
BOOK = {
    1: (0, "open", "CNY", 10000, 6000.00, 0.5, False,
        ("reduce", "6600.00", "4000.00", "3400.00", "current_high_risk_high_utilisation")),
    2: (0, "open", "CNY", 10000, 4000.00, 0.2, True, None),  # 40% drawn
    3: (0, "open", "CNY", 10000, 9500.00, 0.2, True,  # 9,500 x 1.1 is above the limit
        ("freeze", "9500.00", "500.00", "500.00", "current_high_risk_fully_drawn")),
    4: (0, "open", "CNY", 10000, 10500.00, 0.01, False,  # over the limit: kept, not raised
        ("freeze", "10000.00", "0.00", "0.00", "over_limit")),
    5: (12, "open", "CNY", 10000, 3000.00, 0.9, False,
        ("freeze", "3000.00", "7000.00", "7000.00", "delinquent_high_risk")),
    6: (12, "open", "CNY", 10000, 3000.00, 0.1, False, None),  # M1, low risk
    7: (12, "open", "CNY", 10000, 12000.00, 0.1, False,
        ("freeze", "10000.00", "0.00", "0.00", "over_limit")),
    8: (12, "open", "CNY", 10000, 5432.10, 0.1, False, None),
    9: (40, "open", "CNY", 10000, 8000.00, None, False,  # M2, unscored: frozen all the same
        ("freeze", "8000.00", "2000.00", "2000.00", "delinquent_freeze_bucket")),
    10: (0, "frozen", "CNY", 10000, 9000.00, 0.2, True, None),  # already frozen
    # 2,001.00 x 1.1 = 2,201.10, up to 2,210 (USD steps of 10)
    11: (0, "open", "USD", 3000, 2001.00, 0.2, True,
         ("reduce", "2210.00", "999.00", "790.00", "current_high_risk_high_utilisation")),
    # 600.01 x 1.1 = 660.011, up to the cent (EUR has no step)
    12: (0, "open", "EUR", 1000, 600.01, 0.2, True,
         ("reduce", "660.02", "399.99", "339.98", "current_high_risk_high_utilisation")),
    13: (0, "open", "CNY", 10000, 5000.00, 0.2, True,  # exactly half drawn
         ("reduce", "5500.00", "5000.00", "4500.00", "current_high_risk_high_utilisation")),
}
FILLERS = range(40, 52)


def book_rows(scored: bool = True):
    snapshots, scores = [], []
    for n, (dpd, status, currency, limit, balance, p, early, _) in BOOK.items():
        snapshots.append(snapshot(NIGHT, n, dpd, status=status, currency=currency,
                                  credit_limit=float(limit), balance=balance,
                                  past_due_amount=200.0 if dpd else 0.0))
        if p is not None:
            scores.append({"snapshot_date": NIGHT, "account_id": f"AC{n:08d}", "probability": p,
                           "risk_grade": "C", "early_warning": early, "model_version": "m"})
    for n in FILLERS:
        snapshots.append(snapshot(NIGHT, n, 0, balance=1000.0))
        scores.append({"snapshot_date": NIGHT, "account_id": f"AC{n:08d}", "probability": 0.001,
                       "risk_grade": "A", "early_warning": False, "model_version": "m"})
    reasons = [{"snapshot_date": NIGHT, "account_id": "AC00000001", "rank": rank,
                "feature": feature, "contribution": 0.5 / rank, "value": "1",
                "reason_zh": "原因", "reason_en": "reason", "model_version": "m"}
               for rank, feature in ((2, "max_dpd_90d"), (1, "utilisation"))]
    customers = [customer(n, date(2026, 3, 1)) for n in (*BOOK, *FILLERS)]
    return warehouse(snapshots, customers, scores=scores if scored else None,
                     reasons=reasons if scored else None)


@pytest.fixture(scope="module")
def actions():
    conn = book_rows()
    tiering.build_tiers(conn, STRATEGY, NIGHT, NIGHT)
    tiering.build_credit_line_actions(conn, STRATEGY, NIGHT, NIGHT)
    yield conn
    conn.close()


def test_each_account_gets_the_action_a_risk_manager_would(actions):
    rows = {r[0]: r[1:] for r in actions.execute(
        "select account_id, action, recommended_limit, undrawn_limit, exposure_removed, reason "
        "from credit_line_actions where snapshot_date = ?", [NIGHT]).fetchall()}
    expected = {f"AC{n:08d}": (e[0], Decimal(e[1]), Decimal(e[2]), Decimal(e[3]), e[4])
                for n, (*_, e) in BOOK.items() if e}
    assert rows == expected


def test_reason_codes_say_why(actions):
    codes = dict(actions.execute("select account_id, reason_codes from credit_line_actions "
                                 "where snapshot_date = ?", [NIGHT]).fetchall())
    assert codes["AC00000001"] == "RISK_GRADE_C,UTILISATION_60,BUCKET_M0,utilisation,max_dpd_90d"
    assert codes["AC00000004"] == "OVER_LIMIT,UTILISATION_105,BUCKET_M0"
    assert codes["AC00000005"] == "RISK_GRADE_C,UTILISATION_30,BUCKET_M1"
    assert codes["AC00000011"] == "EARLY_WARNING,UTILISATION_66,BUCKET_M0"


def test_the_report_shows_the_exposure_removed_per_currency(actions):
    report = query(actions, "report/credit_line_actions", {"night": NIGHT})
    got = {(r.currency, r.action, r.reason): (r.accounts, round(float(r.credit_limit), 2),
                                              round(float(r.undrawn_limit), 2),
                                              round(float(r.exposure_removed), 2))
           for r in report.itertuples()}
    assert got == {
        ("CNY", "freeze", "current_high_risk_fully_drawn"): (1, 10000.0, 500.0, 500.0),
        ("CNY", "freeze", "delinquent_freeze_bucket"): (1, 10000.0, 2000.0, 2000.0),
        ("CNY", "freeze", "delinquent_high_risk"): (1, 10000.0, 7000.0, 7000.0),
        ("CNY", "freeze", "over_limit"): (2, 20000.0, 0.0, 0.0),
        ("CNY", "reduce", "current_high_risk_high_utilisation"): (2, 20000.0, 9000.0, 7900.0),
        ("USD", "reduce", "current_high_risk_high_utilisation"): (1, 3000.0, 999.0, 790.0),
        ("EUR", "reduce", "current_high_risk_high_utilisation"): (1, 1000.0, 399.99, 339.98),
    }
    by_currency = report.groupby("currency")["exposure_removed"].sum().astype(float).round(2)
    assert by_currency.to_dict() == {"CNY": 17400.0, "EUR": 339.98, "USD": 790.0}


def test_no_action_raises_a_limit(actions):
    assert offending_rows(actions, "assert_credit_line_actions_never_raise_limits",
                          ONE_NIGHT).empty
    # the check does find one: the old rule's max(balance, 70% of the limit) on account 4
    actions.execute("create temp table saved as select * from credit_line_actions")
    actions.execute("update credit_line_actions set recommended_limit = balance, "
                    "exposure_removed = credit_limit - balance where account_id = 'AC00000004'")
    found = offending_rows(actions, "assert_credit_line_actions_never_raise_limits", ONE_NIGHT)
    actions.execute("delete from credit_line_actions")
    actions.execute("insert into credit_line_actions select * from saved")
    assert found["account_id"].tolist() == ["AC00000004"]


def test_an_unscored_night_still_freezes_by_bucket_and_limit():
    """No model: no risk evidence, so no reduction and no high-risk freeze, but M2+ and
    over-limit accounts are facts of the snapshot."""
    conn = book_rows(scored=False)
    tiering.build_tiers(conn, STRATEGY, NIGHT, NIGHT)
    tiering.build_credit_line_actions(conn, STRATEGY, NIGHT, NIGHT)
    got = dict(conn.execute("select account_id, reason from credit_line_actions").fetchall())
    assert got == {"AC00000004": "over_limit", "AC00000007": "over_limit",
                   "AC00000009": "delinquent_freeze_bucket"}
    conn.close()


def test_an_older_warehouse_gains_the_new_columns():
    """A credit_line_actions / collection_tiers table from before issue 17 is extended, not
    rebuilt: its rows stay, the new columns are added."""
    conn = book_rows()
    old_tiers = render_sql("collections/create_collection_tiers").replace(
        "    early_warning_action varchar,\n", "").replace(
        "    risk_rank_in_bucket bigint,\n    scored_in_bucket bigint,\n"
        "    high_risk_rule varchar,\n", "")
    old_actions = render_sql("collections/create_credit_line_actions").replace(
        "    currency varchar,\n", "").replace(
        "    undrawn_limit decimal(18, 2),\n    exposure_removed decimal(18, 2),\n", "")
    conn.execute(old_tiers)
    conn.execute(old_actions)
    columns = {name for (name,) in conn.execute(
        "select column_name from information_schema.columns").fetchall()}
    assert not {"exposure_removed", "risk_rank_in_bucket", "early_warning_action"} & columns
    tiering.build_tiers(conn, STRATEGY, NIGHT, NIGHT)
    tiering.build_credit_line_actions(conn, STRATEGY, NIGHT, NIGHT)
    assert conn.execute("select exposure_removed from credit_line_actions where account_id = "
                        "'AC00000001'").fetchone() == (Decimal("3400.00"),)
    assert conn.execute("select risk_rank_in_bucket from collection_tiers where account_id = "
                        "'AC00000001'").fetchone() == (1,)
    conn.close()
