"""Landing format 1.1: the optional breakdown, contract, rate and statement columns of
account_snapshots load exactly, break their rules row by row (both engines agree), and files or
warehouses without them keep working, the columns then null."""

from datetime import date
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.lib.ingest.contracts import load_contract
from pipelines.lib.ingest.ge_suite import validate_with_ge
from pipelines.lib.ingest.landing import read_landing_file
from pipelines.lib.ingest.load import ensure_warehouse, ingest_night, table_name
from pipelines.lib.sql import render_sql
from tests.conftest import SNAPSHOT_COLUMNS, snapshot_row, write_csv

NIGHT = date(2026, 5, 20)
BREAKDOWN = ("past_due_principal", "past_due_interest", "past_due_penalty_interest",
             "past_due_fees")
NEW_COLUMNS = {  # the type each column must have in the warehouse, whatever the file carries
    "past_due_principal": "DECIMAL(18,2)", "past_due_interest": "DECIMAL(18,2)",
    "past_due_penalty_interest": "DECIMAL(18,2)", "past_due_fees": "DECIMAL(18,2)",
    "contract_reference": "VARCHAR", "contract_date": "DATE", "annual_interest_rate": "VARCHAR",
    "penalty_interest_rate": "VARCHAR", "statement_date": "DATE", "statement_balance": "DECIMAL(18,2)",
    "charge_off_date": "DATE",
}
SUM_RULE = "past_due_breakdown_sums_to_past_due_amount"


def delinquent(number: int, **overrides) -> dict:
    """A delinquent card with a full format 1.1 record: 1234.56 past due = 1000.00 + 180.00 +
    24.56 + 30.00."""
    row = snapshot_row(
        NIGHT, number, balance="5000.00", past_due_amount="1234.56", days_past_due="62",
        past_due_principal="1000.00", past_due_interest="180.00",
        past_due_penalty_interest="24.56", past_due_fees="30.00",
        contract_reference=f"XH-2025-{number:010d}", contract_date="2025-01-15",
        annual_interest_rate="0.18", penalty_interest_rate="0.1825",
        statement_date="2026-05-09", statement_balance="4980.12")
    row.update(overrides)
    return row


def columns_of(conn) -> dict[str, str]:
    return {name: kind for name, kind, *_ in
            conn.execute("describe account_snapshots").fetchall()}


def ingest(conn, tmp_path, rows, columns=None):
    write_csv(tmp_path / "account_snapshots" / f"{NIGHT}.csv", rows, columns)
    return ingest_night(conn, "account_snapshots", NIGHT, tmp_path)


def test_a_file_with_the_new_columns_loads_them_exactly(tmp_path):
    conn = duckdb.connect()
    rows = [delinquent(1),
            delinquent(2, status="charged_off", past_due_amount="5000.00", days_past_due="190",
                       past_due_principal="4765.44", charge_off_date="2026-05-11"),
            snapshot_row(NIGHT, 3, past_due_principal="0.00", past_due_interest="0.00",
                         past_due_penalty_interest="0.00", past_due_fees="0.00")]
    result = ingest(conn, tmp_path, rows, SNAPSHOT_COLUMNS)
    assert (result.rows_loaded, result.rows_quarantined) == (3, 0)
    assert {c: columns_of(conn)[c] for c in NEW_COLUMNS} == NEW_COLUMNS
    loaded = conn.execute(
        "select account_id, past_due_principal, past_due_interest, past_due_penalty_interest, "
        "past_due_fees, contract_reference, contract_date, annual_interest_rate, "
        "penalty_interest_rate, statement_date, statement_balance, charge_off_date "
        "from account_snapshots order by account_id").fetchall()
    assert loaded[0] == (
        "AC00000001", Decimal("1000.00"), Decimal("180.00"), Decimal("24.56"), Decimal("30.00"),
        "XH-2025-0000000001", date(2025, 1, 15), "0.18", "0.1825", date(2026, 5, 9),
        Decimal("4980.12"), None)
    assert loaded[1][1] == Decimal("4765.44") and loaded[1][-1] == date(2026, 5, 11)
    assert loaded[2][1:5] == (Decimal("0.00"),) * 4
    assert loaded[2][5:] == (None,) * 7


def test_a_breakdown_a_cent_off_or_partial_is_quarantined_by_its_rule(tmp_path):
    conn = duckdb.connect()
    rows = [delinquent(1),
            delinquent(2, past_due_fees="30.01"),                       # sums to 1234.57
            delinquent(3, past_due_principal="999.99"),                 # sums to 1234.55
            delinquent(4, past_due_fees=""),                            # three of four parts
            delinquent(5, **dict.fromkeys(BREAKDOWN, "")),              # none: allowed
            delinquent(6, past_due_principal="1000.005"),               # not an amount
            snapshot_row(NIGHT, 7)]
    result = ingest(conn, tmp_path, rows, SNAPSHOT_COLUMNS)
    assert (result.rows_loaded, result.rows_quarantined) == (3, 4)
    quarantined = conn.execute("select row_number, rule, column_name from quarantine "
                               "order by row_number, rule").fetchall()
    # row 6's bad part is a type error, and the three valid parts are then a partial breakdown
    assert quarantined == [(2, SUM_RULE, "past_due_amount"), (3, SUM_RULE, "past_due_amount"),
                           (4, SUM_RULE, "past_due_amount"), (6, SUM_RULE, "past_due_amount"),
                           (6, "past_due_principal_type", "past_due_principal")]
    assert result.quarantined_by_rule == {SUM_RULE: 4, "past_due_principal_type": 1}
    loaded = conn.execute("select account_id, past_due_fees from account_snapshots "
                          "order by account_id").fetchall()
    assert loaded == [("AC00000001", Decimal("30.00")), ("AC00000005", None),
                      ("AC00000007", None)]


def test_the_date_rules_and_the_charge_off_date_only_on_charged_off_accounts(tmp_path):
    conn = duckdb.connect()
    rows = [delinquent(1, statement_date="2026-05-21"),
            delinquent(2, contract_date="2026-05-21"),
            delinquent(3, charge_off_date="2026-05-01"),                # status open
            delinquent(4, status="charged_off", charge_off_date="2026-05-21"),
            delinquent(5, status="charged_off", charge_off_date="2026-05-20"),
            delinquent(6, statement_balance="-0.01", annual_interest_rate="18%"),
            delinquent(7, statement_date="2026-05-20", contract_date="2026-05-20")]
    result = ingest(conn, tmp_path, rows, SNAPSHOT_COLUMNS)
    assert result.quarantined_by_rule == {
        "statement_date_not_after_snapshot_date": 1, "contract_date_not_after_snapshot_date": 1,
        "charge_off_date_only_when_charged_off": 1, "charge_off_date_not_after_snapshot_date": 1,
        "statement_balance_minimum": 1, "annual_interest_rate_pattern": 1}
    assert conn.execute("select account_id from account_snapshots order by 1").fetchall() == [
        ("AC00000005",), ("AC00000007",)]


def test_great_expectations_flags_the_same_rows_as_sql(tmp_path):
    rows = [delinquent(1), delinquent(2, past_due_fees="30.01"), delinquent(3, past_due_fees=""),
            delinquent(4, **dict.fromkeys(BREAKDOWN, "")), delinquent(5, past_due_amount="x"),
            delinquent(6, charge_off_date="2026-05-01"),
            delinquent(7, status="", charge_off_date="2026-05-01"),
            delinquent(8, past_due_principal="0.10", past_due_interest="0.20",
                       past_due_penalty_interest="0.30", past_due_fees="1233.96")]
    path = write_csv(tmp_path / "account_snapshots" / f"{NIGHT}.csv", rows, SNAPSHOT_COLUMNS)
    conn = duckdb.connect()
    result = ingest_night(conn, "account_snapshots", NIGHT, tmp_path)
    by_sql: dict[str, set[int]] = {}
    for row, rule in conn.execute("select row_number, rule from quarantine").fetchall():
        by_sql.setdefault(rule, set()).add(row)
    contract = load_contract("account_snapshots")
    outcomes = validate_with_ge(read_landing_file(path, contract).table, contract, NIGHT,
                                complete=True)
    by_ge = {o.rule: o.row_numbers for o in outcomes if o.row_numbers}
    assert by_ge == by_sql
    assert by_sql[SUM_RULE] == {2, 3}
    (summed,) = [o for o in outcomes if o.rule == SUM_RULE]
    assert summed.observed_value[0] == (
        "past_due_principal: 1000.00, past_due_interest: 180.00, "
        "past_due_penalty_interest: 24.56, past_due_fees: 30.01, past_due_amount: 1234.56")
    assert by_sql["charge_off_date_only_when_charged_off"] == {6}  # row 7: status is required
    assert result.rows_loaded == 3  # rows 1, 4 and 8 (0.10 + 0.20 + 0.30 + 1233.96 = 1234.56)


def test_a_file_without_the_new_columns_loads_them_as_null(tmp_path):
    conn = duckdb.connect()
    result = ingest(conn, tmp_path, [snapshot_row(NIGHT, 1),
                                     snapshot_row(NIGHT, 2, past_due_amount="12.00",
                                                  days_past_due="3")])
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)
    for name in NEW_COLUMNS:
        assert name in result.message
    assert {c: columns_of(conn)[c] for c in NEW_COLUMNS} == NEW_COLUMNS
    nulls = conn.execute(
        "select count(past_due_principal) + count(past_due_interest) "
        "+ count(past_due_penalty_interest) + count(past_due_fees) + count(contract_reference) "
        "+ count(contract_date) + count(annual_interest_rate) + count(penalty_interest_rate) "
        "+ count(statement_date) + count(statement_balance) + count(charge_off_date) "
        "from account_snapshots").fetchone()
    assert nulls == (0,)


def test_a_warehouse_built_before_format_1_1_gains_the_columns(tmp_path):
    conn = duckdb.connect()
    contract = load_contract("account_snapshots")
    older = [c for c in contract.columns if c.name not in NEW_COLUMNS]
    conn.execute(render_sql("ingest/create_feed_table", table=table_name(contract), columns=older,
                            file_date_column=contract.file_date_column, shard_by=None))
    assert not set(NEW_COLUMNS) & set(columns_of(conn))
    ensure_warehouse(conn)
    assert {c: columns_of(conn)[c] for c in NEW_COLUMNS} == NEW_COLUMNS
    assert ingest(conn, tmp_path, [delinquent(1)], SNAPSHOT_COLUMNS).rows_loaded == 1
    assert conn.execute("select past_due_penalty_interest, statement_date from account_snapshots"
                        ).fetchone() == (Decimal("24.56"), date(2026, 5, 9))


def test_a_parquet_file_with_typed_new_columns_loads(tmp_path):
    conn = duckdb.connect()
    record = delinquent(1)
    types = {"past_due_principal": pa.decimal128(18, 2), "past_due_interest": pa.decimal128(18, 2),
             "past_due_penalty_interest": pa.decimal128(18, 2),
             "past_due_fees": pa.decimal128(18, 2), "statement_balance": pa.decimal128(18, 2),
             "contract_date": pa.date32(), "statement_date": pa.date32()}
    columns = {}
    for name, text in record.items():
        if name in types and pa.types.is_decimal(types[name]):
            columns[name] = pa.array([Decimal(text)], types[name])
        elif name in types:
            columns[name] = pa.array([date.fromisoformat(text)], types[name])
        else:
            columns[name] = pa.array([text], pa.string())
    folder = tmp_path / "account_snapshots"
    folder.mkdir()
    pq.write_table(pa.table(columns), folder / f"{NIGHT}.parquet")
    result = ingest_night(conn, "account_snapshots", NIGHT, tmp_path)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 0)
    assert conn.execute(
        "select past_due_principal, past_due_interest, past_due_penalty_interest, past_due_fees, "
        "statement_date from account_snapshots").fetchone() == (Decimal("1000.00"), Decimal("180.00"), Decimal("24.56"),
                                         Decimal("30.00"), date(2026, 5, 9))
