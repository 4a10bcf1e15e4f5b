"""The report's vintage table and chart on hand-written cells: a censored month is blank in the
table and a gap in the chart, never 0."""

import re
from datetime import date
from types import SimpleNamespace

import pandas as pd

from pipelines.lib.report import charts
from pipelines.lib.report.render import strings, vintage_table

NAN = float("nan")


def cells():
    """January opened before the book (first observed MOB 2), April opened in it."""
    rows = [  # open month, MOB, first observed MOB, accounts, balance, share, share by balance
        (date(2025, 1, 1), 0, 2, 2, 400.0, NAN, NAN),
        (date(2025, 1, 1), 1, 2, 2, 400.0, NAN, NAN),
        (date(2025, 1, 1), 2, 2, 2, 400.0, 0.5, 0.25),
        (date(2025, 1, 1), 3, 2, 2, 400.0, 0.5, 0.25),
        (date(2025, 4, 1), 0, 0, 2, 1000.0, 0.0, 0.0),
        (date(2025, 4, 1), 1, 0, 2, 1000.0, 0.5, 0.4),
    ]
    return pd.DataFrame(rows, columns=["open_month", "months_on_book", "first_observed_mob",
                                       "accounts", "balance", "share_ever_30plus",
                                       "share_ever_30plus_balance"])


def test_the_vintage_table_leaves_censored_and_unreached_cells_blank():
    data = SimpleNamespace(vintage=cells(), currency="CNY")
    table = vintage_table(data, strings()["en"])
    assert table.headers == ["Open month", "Accounts", "Balance", "First observed MOB", "MOB 1",
                             "MOB 3", "MOB 6", "MOB 9", "MOB 12", "Latest (by accounts)",
                             "Latest (by balance)"]
    assert table.rows == [
        # MOB 1 censored (blank), MOB 3 observed, MOB 6+ not reached (blank)
        ["2025-01 *", "2", "¥400", "2", "", "50%", "", "", "", "50% (MOB 3)", "25%"],
        ["2025-04", "2", "¥1,000", "0", "50%", "", "", "", "", "50% (MOB 1)", "40%"],
    ]


def test_the_vintage_chart_draws_no_point_for_a_censored_month():
    data = SimpleNamespace(vintage=cells(), currency="CNY")
    chart = charts.vintage(data, strings()["en"], "en")
    # matplotlib draws a line's markers as <use> elements: January has 2 observed points per
    # panel (MOB 2 and 3), not 4, April 2 (MOB 0 and 1); ticks and legend keys have 1
    lines = re.findall(r'<g id="vintage-line2d_\d+">(.*?)</g>', chart.svg, flags=re.DOTALL)
    markers = [n for n in (len(re.findall(r"<use ", line)) for line in lines) if n > 1]
    assert markers == [2, 2, 2, 2]
    assert "(seen from MOB 2)" in chart.svg
