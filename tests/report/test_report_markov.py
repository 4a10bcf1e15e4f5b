"""The roll-rate Markov forecast and its backtest on matrices stated by hand."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from pipelines.lib.report import markov

S = markov.STATES


def rows(night, from_date, cells):
    """roll_rates rows from {(from, to): accounts}; balance = 10 per account."""
    return pd.DataFrame([{"snapshot_date": night, "from_date": from_date, "from_bucket": f,
                          "to_bucket": t, "accounts": n, "balance": 10.0 * n}
                         for (f, t), n in cells.items()])


MARCH = {
    ("M0", "M0"): 80, ("M0", "M1"): 10, ("M0", "gone"): 10,
    ("M1", "M0"): 5, ("M1", "M2"): 5,
    ("M2", "M3"): 4,
    ("M3", "M4"): 2,
    ("M6", "WO"): 1, ("M6", "M0"): 1,
    ("WO", "WO"): 3,
    ("new", "M0"): 20,
}


def test_one_month_by_hand():
    (matrix,) = markov.matrices_from_rows(rows(date(2026, 3, 31), date(2026, 2, 28),
                                               MARCH)).values()
    # tonight's book: the column totals without gone, the new row included
    start = matrix.state_accounts()
    assert start[S.index("M0")] == 80 + 5 + 1 + 20
    assert start[S.index("M1")] == 10 and start[S.index("WO")] == 4
    p = matrix.transition("accounts")
    assert p[S.index("M0"), S.index("M1")] == pytest.approx(0.10)
    assert p[S.index("M6"), S.index("WO")] == pytest.approx(0.5)
    # rows with no accounts take the stated default: M4 -> M5, M5 -> M6, closed stays
    assert p[S.index("M4"), S.index("M5")] == 1.0
    assert p[S.index("closed"), S.index("closed")] == 1.0

    projected = markov.forecast(start, p, matrix.new_accounts, months=1)
    # M0: 106 x 0.8 + 10 x 0.5 (M1 cures) + 0 (no M6 left) + 20 new = 109.8
    # M1: 106 x 0.1 = 10.6; M2: 10 x 0.5 = 5; M3: 5 (M2) x 1.0 = 5 (M2 row: all roll)
    m = projected.states[0]
    assert m[S.index("M0")] == pytest.approx(106 * 0.8 + 10 * 0.5 + 20)
    assert m[S.index("M1")] == pytest.approx(10.6)
    assert m[S.index("M2")] == pytest.approx(5.0)
    assert m[S.index("M3")] == pytest.approx(5.0)  # tonight's M2 (5) all roll to M3
    assert m[S.index("M4")] == pytest.approx(4.0)  # tonight's M3 (4), all roll to M4
    assert m[S.index("M5")] == pytest.approx(2.0)  # tonight's M4 (2), default row: to M5
    # WO keeps its 4 (WO -> WO), nothing in M6 tonight: no new write-off
    assert m[S.index("WO")] == pytest.approx(4.0)
    assert projected.writeoffs == [pytest.approx(0.0)]
    # 10 % of M0 leave the file: they are not in next month's book
    assert m.sum() == pytest.approx(start.sum() - 106 * 0.1 + 20)


def test_write_offs_of_later_months_come_through_the_chain():
    p = markov.transition_matrix(np.eye(len(S)))  # everyone stays ...
    p[S.index("M6")] = 0
    p[S.index("M6"), S.index("WO")] = 0.25  # ... except M6: a quarter written off each month
    p[S.index("M6"), S.index("M6")] = 0.75
    start = np.zeros(len(S))
    start[S.index("M6")] = 100
    projected = markov.forecast(start, np.hstack([p[:, :len(S)], np.zeros((len(S), 1))]),
                                months=3)
    assert projected.writeoffs == [pytest.approx(25), pytest.approx(18.75),
                                   pytest.approx(14.0625)]
    assert projected.rate_30plus(3) == pytest.approx(1.0)  # M6 and WO are both 30+


def test_probability_of_writeoff_within_months():
    weights = np.zeros((len(S), len(markov.TO_STATES)))
    weights[S.index("M0"), S.index("M0")] = 9
    weights[S.index("M0"), S.index("M1")] = 1  # 10 % roll
    weights[S.index("M1"), S.index("M0")] = 1
    weights[S.index("M1"), S.index("WO")] = 1  # half of M1 written off (a short chain)
    weights[S.index("WO"), markov.TO_STATES.index("gone")] = 1  # written-off accounts leave the file
    p = markov.transition_matrix(weights)
    one = markov.probability_of_writeoff(p, 1)
    two = markov.probability_of_writeoff(p, 2)
    assert one["M1"] == pytest.approx(0.5) and one["M0"] == 0
    # M0 -> M1 -> WO in two months: 0.1 x 0.5
    assert two["M0"] == pytest.approx(0.05)
    # M1: 0.5 at once, or cure then roll again is three steps: still 0.5 within two months
    assert two["M1"] == pytest.approx(0.5)
    assert two["WO"] == 1.0  # absorbing even though WO accounts leave the file


def test_backtest_compares_each_earlier_forecast_with_what_happened():
    jan, feb, mar = date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)
    frame = pd.concat([
        rows(jan, date(2025, 12, 31), {("M0", "M0"): 90, ("M0", "M2"): 10}),
        rows(feb, jan, {("M0", "M0"): 72, ("M0", "M2"): 18, ("M2", "M2"): 10}),
        rows(mar, feb, {("M0", "M0"): 72, ("M2", "M2"): 28}),
    ])
    chain = markov.month_chain(markov.matrices_from_rows(frame), mar)
    assert [m.night for m in chain] == [jan, feb, mar]
    result = markov.backtest(chain).set_index(["origin", "months_ahead"])
    # from January (90 M0, 10 M2; M0 rolls 10 % to M2; the M2 row is empty in January's
    # matrix, so M2 rolls on to M3 by default, still 30+): February forecast 30+ =
    # (9 + 10) / 100 = 19 %; actual February 30+ = 28 / 100
    assert result.loc[(jan, 1), "forecast_30plus"] == pytest.approx(0.19)
    assert result.loc[(jan, 1), "actual_30plus"] == pytest.approx(0.28)
    assert result.loc[(jan, 1), "error_30plus"] == pytest.approx(-0.09)
    # two months ahead from January: M0 72.9, M2 8.1, M3 9, M4 10 -> 27.1 %
    assert result.loc[(jan, 2), "forecast_30plus"] == pytest.approx(0.271)
    # from February (M0 -> M2 20 %, M2 stays): March forecast = (72 x 0.2 + 28) / 100
    assert result.loc[(feb, 1), "forecast_30plus"] == pytest.approx(0.424)
    assert result.loc[(feb, 1), "actual_30plus"] == pytest.approx(0.28)
    assert len(result) == 3
