"""The optional landing column effective_interest_rate: files with it and without it load (an
older warehouse gains the column), bad rates are quarantined, and the IFRS 9 ECL discounts each
account at its landed rate, else at its product's configured rate (worked out by hand)."""

from datetime import date

import duckdb
import numpy as np
import pytest

from pipelines.lib.ingest.contracts import load_contract
from pipelines.lib.ingest.load import ensure_warehouse, ingest_night, table_name
from pipelines.lib.report import ifrs9
from pipelines.lib.report.ifrs9 import Assumptions
from pipelines.lib.sql import render_sql
from pipelines.lib.warehouse import load_macros
from tests.conftest import snapshot_row, write_csv

NIGHT = date(2026, 5, 20)


def landed(conn) -> list[tuple]:
    return conn.execute("select account_id, effective_interest_rate from account_snapshots "
                        "order by account_id").fetchall()


def test_files_with_and_without_the_rate_load_and_bad_rates_are_quarantined(tmp_path):
    conn = duckdb.connect()
    ensure_warehouse(conn)
    rows = [snapshot_row(NIGHT, 1, effective_interest_rate="0.1825"),
            snapshot_row(NIGHT, 2, effective_interest_rate=""),
            snapshot_row(NIGHT, 3, effective_interest_rate="18.25"),   # a percent, not a share
            snapshot_row(NIGHT, 4, effective_interest_rate="0.1234567")]  # 7 decimal places
    write_csv(tmp_path / "account_snapshots" / f"{NIGHT}.csv", rows)
    result = ingest_night(conn, "account_snapshots", NIGHT, tmp_path)
    assert result.rows_loaded == 2 and result.rows_quarantined == 2
    assert result.quarantined_by_rule == {"effective_interest_rate_pattern": 2}
    assert landed(conn) == [("AC00000001", "0.1825"), ("AC00000002", None)]

    later = date(2026, 5, 21)
    write_csv(tmp_path / "account_snapshots" / f"{later}.csv", [snapshot_row(later, 1)])
    result = ingest_night(conn, "account_snapshots", later, tmp_path)
    assert result.rows_loaded == 1
    assert "optional column(s) absent, loaded as null: effective_interest_rate" in result.message


def test_a_warehouse_built_before_the_column_gains_it(tmp_path):
    conn = duckdb.connect()
    contract = load_contract("account_snapshots")
    older = [c for c in contract.columns if c.name != "effective_interest_rate"]
    conn.execute(render_sql("ingest/create_feed_table", table=table_name(contract), columns=older,
                            file_date_column=contract.file_date_column, shard_by=None))
    ensure_warehouse(conn)
    write_csv(tmp_path / "account_snapshots" / f"{NIGHT}.csv",
              [snapshot_row(NIGHT, 1, effective_interest_rate="0.05")])
    assert ingest_night(conn, "account_snapshots", NIGHT, tmp_path).rows_loaded == 1
    assert landed(conn) == [("AC00000001", "0.05")]


def test_ecl_is_discounted_at_the_landed_rate_else_the_configured_one(tmp_path):
    conn = duckdb.connect()
    ensure_warehouse(conn)
    load_macros(conn)
    rows = [snapshot_row(NIGHT, 1, product="installment", balance="1000.00",
                         credit_limit="1000.00", effective_interest_rate="0.24"),
            snapshot_row(NIGHT, 2, product="installment", balance="1000.00",
                         credit_limit="1000.00", effective_interest_rate="")]
    write_csv(tmp_path / "account_snapshots" / f"{NIGHT}.csv", rows)
    assert ingest_night(conn, "account_snapshots", NIGHT, tmp_path).rows_loaded == 2
    assumptions = Assumptions(stage_2_from_bucket="M1", stage_3_from_bucket="M3",
                              early_warning_is_significant_increase=True, lgd={"default": 0.5},
                              ccf=0.5, pd_12m_months=2, lifetime_months=3,
                              eir={"default": 0.06, "installment": 0.12})
    # M0 reaches WO with 0.1 in month 1 and 0.09 in month 2; EAD 1000 (no undrawn limit)
    marginal = {"M0": np.array([0.1, 0.09, 0.081])}
    frame = ifrs9.exposure(conn, NIGHT, assumptions, marginal, with_scores=False, with_eir=True)
    by_source = frame.set_index("eir_source")["ecl"]
    # landed 24 % a year = 2 % a month; configured for installment 12 % = 1 % a month
    assert by_source["landed"] == pytest.approx(0.5 * 1000 * (0.1 / 1.02 + 0.09 / 1.02**2))
    assert by_source["configured"] == pytest.approx(0.5 * 1000 * (0.1 / 1.01 + 0.09 / 1.01**2))
