"""great-expectations and the SQL rules flag the same rows of a 12,000-row file in which every kind
of rule of the account_snapshots contract fails somewhere; the expected rows are written out by
hand here, so both engines are checked against it, not only against each other."""

import duckdb
import pytest

from pipelines.lib.ingest.contracts import load_contract
from pipelines.lib.ingest.ge_suite import validate_with_ge
from pipelines.lib.ingest.landing import read_landing_file
from pipelines.lib.ingest.load import ingest_file
from pipelines.lib.ingest.row_checks import flagged_rows_by_rule, run_row_checks
from tests.conftest import NIGHT, SNAPSHOT_COLUMNS, snapshot_row, write_csv

ROWS = 12_000
BREAKDOWN = {"past_due_amount": "100.00", "days_past_due": "30"}
# (overrides on a clean row, the rules it breaks)
DEFECTS = [
    ({"account_id": ""}, {"account_id_required"}),
    ({"customer_id": "  "}, {"customer_id_required"}),
    ({"credit_limit": "abc"}, {"credit_limit_type"}),
    ({"credit_limit": "1e3"}, {"credit_limit_type"}),
    ({"credit_limit": "-5.00"}, {"credit_limit_minimum"}),
    ({"days_past_due": "-3"}, {"days_past_due_minimum"}),
    ({"balance": "2500,50"}, {"balance_type"}),
    ({"open_date": "0000-01-01"}, {"open_date_type"}),
    ({"statement_date": "0000-12-31"}, {"statement_date_type"}),
    ({"next_due_date": "2026-02-30"}, {"next_due_date_type"}),
    ({"snapshot_date": "2026-05-02"}, {"snapshot_date_equals_file_date"}),
    ({"last_payment_date": "2026-05-04"}, {"last_payment_date_not_after_snapshot_date"}),
    ({"contract_date": "2026-06-01"}, {"contract_date_not_after_snapshot_date"}),
    ({"status": "active"}, {"status_valid_values"}),
    ({"currency": "RMB"}, {"currency_valid_values"}),
    ({"product": "x" * 65}, {"product_max_length"}),
    ({"effective_interest_rate": "18%"}, {"effective_interest_rate_pattern"}),
    ({"annual_interest_rate": "0.18.1"}, {"annual_interest_rate_pattern"}),
    ({"statement_balance": "-1.00"}, {"statement_balance_minimum"}),
    ({"past_due_amount": "3000.00", "days_past_due": "12"}, {"past_due_amount_not_above_balance"}),
    ({"past_due_amount": "100.00"}, {"days_past_due_positive_when_past_due"}),
    ({"days_past_due": "5"}, {"days_past_due_zero_when_nothing_past_due"}),
    (BREAKDOWN | {"past_due_principal": "50.00", "past_due_interest": "20.00",
                  "past_due_penalty_interest": "10.00", "past_due_fees": "10.00"},
     {"past_due_breakdown_sums_to_past_due_amount"}),
    (BREAKDOWN | {"past_due_principal": "100.00"}, {"past_due_breakdown_sums_to_past_due_amount"}),
    ({"charge_off_date": "2026-01-01"}, {"charge_off_date_only_when_charged_off"}),
]
CLEAN_VARIANTS = [
    BREAKDOWN | {"past_due_principal": "60.00", "past_due_interest": "20.00",
                 "past_due_penalty_interest": "10.00", "past_due_fees": "10.00"},
    {"status": "charged_off", "charge_off_date": "2026-01-01", "past_due_amount": "2500.50",
     "days_past_due": "190"},
    {"open_date": "0001-01-01", "effective_interest_rate": "0.1825", "currency": "USD"},
]
DUPLICATED = (4_321, 11_987)  # the second row repeats the first one's account_id


def _file(tmp_path):
    rows, expected = [], {}
    defect_at = {137 + 461 * index: index for index in range(len(DEFECTS))}
    for number in range(1, ROWS + 1):
        if number in defect_at:
            overrides, rules = DEFECTS[defect_at[number]]
            for rule in rules:
                expected.setdefault(rule, set()).add(number)
        else:
            overrides = CLEAN_VARIANTS[number % len(CLEAN_VARIANTS)] if number % 7 == 0 else {}
        rows.append(snapshot_row(number=number, **overrides))
    rows[DUPLICATED[1] - 1]["account_id"] = rows[DUPLICATED[0] - 1]["account_id"]
    expected["account_id_unique"] = set(DUPLICATED)
    path = write_csv(tmp_path / "landing" / "account_snapshots" / f"{NIGHT}.csv", rows,
                     SNAPSHOT_COLUMNS)
    return path, expected


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    return _file(tmp_path_factory.mktemp("agree"))


def test_seeded_file_breaks_every_kind_of_rule(seeded):
    _, expected = seeded
    contract = load_contract("account_snapshots")
    kinds = {rule.kind for rule in contract.rules}
    broken = {rule.kind for rule in contract.rules if rule.name in expected}
    assert broken == kinds
    assert sum(len(rows) for rows in expected.values()) == len(DEFECTS) + 2


def test_both_engines_find_exactly_the_seeded_rows(seeded):
    path, expected = seeded
    contract = load_contract("account_snapshots")
    landed = read_landing_file(path, contract)
    assert landed.table.num_rows == ROWS
    conn = duckdb.connect()
    run_row_checks(conn, contract, landed)
    assert flagged_rows_by_rule(conn) == expected
    outcomes = validate_with_ge(landed.table, contract, NIGHT, complete=True)
    assert {o.rule: o.row_numbers for o in outcomes if o.row_numbers} == expected
    assert {o.rule: o.unexpected_count for o in outcomes if o.unexpected_count} == {
        rule: len(rows) for rule, rows in expected.items()}


def test_year_zero_dates_are_quarantined_with_file_row_and_column(seeded):
    path, _ = seeded
    conn = duckdb.connect()
    result = ingest_file(conn, load_contract("account_snapshots"), path)
    assert result.status == "loaded" and result.reconciles
    rows = conn.execute(
        "select source_file, row_number, column_name, rule, message from quarantine "
        "where message like '%0000-%' order by row_number").fetchall()
    open_row = 137 + 461 * 7
    statement_row = 137 + 461 * 8
    assert rows == [
        (str(path), open_row, "open_date", "open_date_type",
         "must be a date YYYY-MM-DD from year 0001 (open_date = '0000-01-01')"),
        (str(path), statement_row, "statement_date", "statement_date_type",
         "must be a date YYYY-MM-DD from year 0001 (statement_date = '0000-12-31')"),
    ]
    loaded = conn.execute("select min(open_date) from account_snapshots").fetchone()[0]
    assert loaded.year == 1
