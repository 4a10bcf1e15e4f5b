"""Every fault class the simulator can inject is caught with the right rule, on the right row,
and every row still ends up loaded or quarantined."""

from datetime import date

import duckdb
import pytest

from pipelines.lib.ingest.contracts import load_contract
from pipelines.lib.ingest.ge_suite import validate_with_ge
from pipelines.lib.ingest.landing import FileRejected, read_landing_file
from pipelines.lib.ingest.load import ingest_file
from tooling.faults import inject_faults
from tooling.simulator import simulate

NIGHT = date(2026, 3, 31)

ROW_RULES = {
    "wrong_type": {"credit_limit_type", "amount_due_type", "payment_amount_type",
                   "next_due_date_type"},
    "null_key": {"account_id_required"},
    "duplicate_key": {"account_id_unique"},
    "negative_amount": {"credit_limit_minimum", "payment_amount_minimum"},
    "past_due_gt_balance": {"past_due_amount_not_above_balance"},
    "dpd_without_past_due": {"days_past_due_zero_when_nothing_past_due"},
    "past_due_without_dpd": {"days_past_due_positive_when_past_due"},
    "future_date": {"last_payment_date_not_after_snapshot_date",
                    "open_date_not_after_snapshot_date"},
    "unknown_status": {"status_valid_values"},
    "bad_currency": {"currency_valid_values"},
    "wrong_snapshot_date_rows": {"snapshot_date_equals_file_date"},
    "breakdown_not_summing": {"past_due_breakdown_sums_to_past_due_amount"},
}
FILE_RULES = {
    "missing_required_column": "file_missing_column",
    "gbk_encoding": "file_encoding",
    "truncated_file": "file_truncated",
    "empty_file": "file_empty",
    "wrong_snapshot_date": "file_date_mismatch",
}
TOLERATED = ("utf8_bom", "extra_column")


@pytest.fixture(scope="module")
def clean_file(tmp_path_factory):
    home = tmp_path_factory.mktemp("book")
    simulate(home, accounts=3000, days=40, end_date=NIGHT, seed=3)
    return home / "landing" / "account_snapshots" / f"{NIGHT}.csv"


def _ingest(path):
    conn = duckdb.connect()
    result = ingest_file(conn, load_contract("account_snapshots"), path)
    rules_by_row: dict[int, set[str]] = {}
    for row, rule in conn.execute("select row_number, rule from quarantine").fetchall():
        rules_by_row.setdefault(row, set()).add(rule)
    return conn, result, rules_by_row


def test_clean_simulated_night_loads_entirely(clean_file):
    _, result, rules_by_row = _ingest(clean_file)
    assert rules_by_row == {}
    assert result.rows_read == result.rows_loaded > 2000


@pytest.mark.parametrize("fault_class", sorted(ROW_RULES))
def test_row_fault_is_quarantined_with_its_rule(clean_file, tmp_path, fault_class):
    target = tmp_path / clean_file.name
    faults = inject_faults(clean_file, target, {fault_class: 0.01}, seed=5)
    assert faults and all(f.row_number for f in faults)
    _, result, rules_by_row = _ingest(target)
    assert result.reconciles
    assert set(rules_by_row) == {f.row_number for f in faults}
    for fault in faults:
        assert rules_by_row[fault.row_number] <= ROW_RULES[fault_class], fault
    assert result.rows_quarantined == len(rules_by_row)


@pytest.mark.parametrize("fault_class", sorted(FILE_RULES))
def test_file_fault_rejects_the_whole_file(clean_file, tmp_path, fault_class):
    target = tmp_path / clean_file.name
    inject_faults(clean_file, target, {fault_class: 1}, seed=5)
    conn = duckdb.connect()
    with pytest.raises(FileRejected) as caught:
        ingest_file(conn, load_contract("account_snapshots"), target)
    assert caught.value.rule == FILE_RULES[fault_class]
    assert conn.execute("select count(*) from account_snapshots").fetchone() == (0,)
    assert conn.execute("select rule, row_number from quarantine").fetchall() == [
        (FILE_RULES[fault_class], None)]
    assert target.exists()


@pytest.mark.parametrize("fault_class", TOLERATED)
def test_tolerated_faults_load_every_row(clean_file, tmp_path, fault_class):
    target = tmp_path / clean_file.name
    inject_faults(clean_file, target, {fault_class: 1}, seed=5)
    conn, result, rules_by_row = _ingest(target)
    assert rules_by_row == {}
    assert result.rows_loaded == result.rows_read
    if fault_class == "extra_column":
        assert conn.execute("select count(*) from account_snapshots "
                            "where extra_columns->>'branch_code' <> ''").fetchone()[0] > 0


def test_engines_agree_over_the_whole_row_fault_corpus(clean_file, tmp_path):
    target = tmp_path / clean_file.name
    faults = inject_faults(clean_file, target, {c: 0.004 for c in ROW_RULES}, seed=9)
    _, result, rules_by_row = _ingest(target)
    assert result.reconciles and result.rows_quarantined == len(rules_by_row)
    assert {f.row_number for f in faults} == set(rules_by_row)
    contract = load_contract("account_snapshots")
    landed = read_landing_file(target, contract)
    by_ge: dict[str, set[int]] = {}
    for outcome in validate_with_ge(landed.table, contract, NIGHT, complete=True):
        if outcome.row_numbers:
            by_ge[outcome.rule] = outcome.row_numbers
    by_sql: dict[str, set[int]] = {}
    for row, rules in rules_by_row.items():
        for rule in rules:
            by_sql.setdefault(rule, set()).add(row)
    assert by_ge == by_sql
