"""On the real Taiwan 2005 book, the pipeline's roll-rate matrices equal a direct pandas count.

The expected matrix is computed here from the PAY columns alone; the pipeline's comes from the
imported landing files through ingest (contract, quarantine) and sql/features/roll_rates.sql.
Account-months the contract quarantines (delinquent with nothing owed) are absent from the
warehouse, so the direct count treats them as absent too: they land in `new`/`gone`.
"""

import itertools
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines.adapters.taiwan import import_taiwan
from pipelines.lib.features.nightly_tables import rebuild_nights
from pipelines.lib.ingest.contracts import load_contract
from pipelines.lib.ingest.load import ingest_file
from pipelines.lib.warehouse import offending_rows

SOURCE = Path(__file__).parents[1] / "data" / "uci_taiwan_default" / "UCI_Credit_Card.csv"
MONTHS = [  # (month end, PAY column, BILL_AMT column)
    (date(2005, 4, 30), "PAY_6", "BILL_AMT6"), (date(2005, 5, 31), "PAY_5", "BILL_AMT5"),
    (date(2005, 6, 30), "PAY_4", "BILL_AMT4"), (date(2005, 7, 31), "PAY_3", "BILL_AMT3"),
    (date(2005, 8, 31), "PAY_2", "BILL_AMT2"), (date(2005, 9, 30), "PAY_0", "BILL_AMT1"),
]


def direct_states(book: pd.DataFrame, pay: str, bill: str) -> pd.Series:
    """Bucket per account from the PAY code (DPD = 30 k), NaN where the contract quarantines."""
    code = book[pay].clip(lower=0)
    dpd = 30 * code
    bucket = np.select(
        [dpd > 180, dpd == 0, dpd <= 30, dpd <= 60, dpd <= 90, dpd <= 120, dpd <= 150],
        ["WO", "M0", "M1", "M2", "M3", "M4", "M5"], default="M6")
    states = pd.Series(bucket, index=book["ID"])
    quarantined = (code >= 1) & (book[bill] <= 0)
    return states.where(~quarantined.to_numpy())


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    if not SOURCE.exists():
        pytest.skip(f"the Taiwan book is not at {SOURCE}")
    home = tmp_path_factory.mktemp("taiwan")
    import_taiwan(SOURCE, home)
    conn = duckdb.connect(str(home / "warehouse.duckdb"))
    contract = load_contract("account_snapshots")
    for night, _, _ in MONTHS:
        ingest_file(conn, contract, home / "landing" / "account_snapshots" / f"{night}.csv")
    rebuild_nights(conn, "roll_rates", "features/roll_rates", MONTHS[0][0], MONTHS[-1][0])
    return conn


def test_roll_rate_matrices_equal_a_direct_count_of_pay_codes(warehouse):
    book = pd.read_csv(SOURCE)
    for (before, pay_before, bill_before), (after, pay_after, bill_after) in itertools.pairwise(MONTHS):
        earlier = direct_states(book, pay_before, bill_before)
        later = direct_states(book, pay_after, bill_after)
        pairs = pd.DataFrame({"from_bucket": earlier.fillna("new"), "to_bucket": later.fillna("gone")})
        pairs = pairs[~((pairs.from_bucket == "new") & (pairs.to_bucket == "gone"))]
        expected = pairs.value_counts().sort_index()
        actual = warehouse.execute(
            "select from_bucket, to_bucket, accounts from roll_rates "
            "where snapshot_date = ? and product = 'all' and currency = 'all'", [after]).df()
        actual = actual.set_index(["from_bucket", "to_bucket"])["accounts"].sort_index()
        assert actual.to_dict() == expected.to_dict(), f"{before} -> {after}"
        assert warehouse.execute("select distinct from_date from roll_rates where snapshot_date = ?",
                                 [after]).fetchall() == [(before,)]


def test_roll_rate_checks_pass_on_the_real_book(warehouse):
    for name in ("assert_roll_rate_rows_sum_to_one", "assert_roll_rate_totals_reconcile"):
        assert offending_rows(warehouse, name, {"start_date": MONTHS[0][0],
                                                "end_date": MONTHS[-1][0]}).empty, name
