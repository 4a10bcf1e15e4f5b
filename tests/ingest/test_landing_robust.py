"""Landing files as core systems really send them: stray quotes, NUL bytes, decimal(38,10),
gzip, GB18030, huge values. Each test writes the real bytes and states the expected outcome."""

import gzip
import hashlib
import shutil
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.lib.ingest.contracts import load_contract, parse_contract
from pipelines.lib.ingest.landing import FileRejected, read_landing_file
from pipelines.lib.ingest.load import ingest_file
from pipelines.lib.ingest.row_checks import flagged_rows_by_rule, run_row_checks
from tests.conftest import (
    CUSTOMER_COLUMNS,
    NIGHT,
    SNAPSHOT_COLUMNS,
    customer_row,
    snapshot_row,
    write_csv,
)

SNAPSHOTS = load_contract("account_snapshots")
CUSTOMERS = load_contract("customers")


def _snapshot_path(tmp_path, suffix="csv"):
    path = tmp_path / "landing" / "account_snapshots" / f"{NIGHT}.{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _snapshot_lines(tmp_path, count: int) -> list[str]:
    rows = [snapshot_row(number=n) for n in range(1, count + 1)]
    return write_csv(tmp_path / "source.csv", rows, SNAPSHOT_COLUMNS).read_text().splitlines()


def _rules(landed):
    return [(r.row_number, r.rule, r.column) for r in landed.structural_rejects]


def test_stray_quote_in_a_snapshot_is_quarantined_and_the_rest_loads(tmp_path):
    lines = _snapshot_lines(tmp_path, 5)
    lines[3] = lines[3].replace("revolving", 'revol"ving', 1).replace(',revol"', ',"revol')
    path = _snapshot_path(tmp_path)
    path.write_text("\n".join(lines) + "\n")
    conn = duckdb.connect()
    result = ingest_file(conn, SNAPSHOTS, path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (5, 4, 1)
    row = conn.execute("select row_number, rule, message, raw_record from quarantine").fetchone()
    assert row[:2] == (3, "row_unbalanced_quote")
    assert "line 4" in row[2]
    assert row[3] == lines[3]


def test_unbalanced_quote_near_the_end_loses_no_row(tmp_path):
    """Before: pyarrow joined the rows after the quote into one value; 70 of 1,497 were lost."""
    lines = _snapshot_lines(tmp_path, 100)
    lines[95] = lines[95].replace(",revolving,", ',"revolving,', 1)
    path = _snapshot_path(tmp_path)
    path.write_text("\n".join(lines) + "\n")
    landed = read_landing_file(path, SNAPSHOTS)
    assert landed.rows_read == 100
    assert landed.table.num_rows == 99
    assert _rules(landed) == [(95, "row_unbalanced_quote", None)]


def test_a_quote_inside_an_unquoted_value_is_text_on_both_paths(tmp_path):
    lines = _snapshot_lines(tmp_path, 3)
    lines[1] = lines[1].replace(",revolving,", ',revol"ving,', 1)
    path = _snapshot_path(tmp_path)
    for extra in ([], [lines[2] + ",surplus"]):  # the second file also takes the line-by-line path
        path.write_text("\n".join(lines + extra) + "\n")
        landed = read_landing_file(path, SNAPSHOTS)
        assert landed.table["product"].to_pylist()[0] == 'revol"ving'
        assert [r.rule for r in landed.structural_rejects] == ["row_field_count"] * len(extra)


def test_an_address_spanning_lines_is_one_legal_record(tmp_path):
    rows = [customer_row(1), customer_row(2, postal_address="朝阳区建国路88号\n3单元"), customer_row(3)]
    path = write_csv(tmp_path / "landing" / "customers" / f"{NIGHT}.csv", rows, CUSTOMER_COLUMNS)
    landed = read_landing_file(path, CUSTOMERS)
    assert landed.structural_rejects == []
    assert landed.table["postal_address"].to_pylist()[1] == "朝阳区建国路88号\n3单元"
    # the same line break in a name is two runaway quotes (each line holds one), not a value
    rows[1] = customer_row(2, full_name="欧阳\n娜娜")
    path = write_csv(path, rows, CUSTOMER_COLUMNS)
    landed = read_landing_file(path, CUSTOMERS)
    assert landed.table["customer_id"].to_pylist() == ["CU0000001", "CU0000003"]
    assert [r.rule for r in landed.structural_rejects] == ["row_unbalanced_quote"] * 2


def test_nul_and_control_characters_quarantine_the_row_naming_the_column(tmp_path):
    rows = [snapshot_row(number=1), snapshot_row(number=2, account_id="AC0000\x000002"),
            snapshot_row(number=3, product="revolving\x0c"), snapshot_row(number=4, product="a\tb")]
    path = write_csv(_snapshot_path(tmp_path), rows, SNAPSHOT_COLUMNS)
    assert b"\x00" in path.read_bytes()
    landed = read_landing_file(path, SNAPSHOTS)
    assert _rules(landed) == [(2, "row_control_character", "account_id"),
                              (3, "row_control_character", "product")]
    assert landed.structural_rejects[0].message == "account_id holds control character U+0000"
    assert "\\x00" in landed.structural_rejects[0].raw_record
    assert landed.table["__row_number"].to_pylist() == [1, 4]  # a tab is allowed


def _parquet(tmp_path, columns: dict) -> object:
    rows = [snapshot_row(number=n) for n in (1, 2, 3)]
    data = {name: pa.array([r[name] for r in rows], pa.string()) for name in rows[0]}
    data.update(columns)
    path = _snapshot_path(tmp_path, "parquet")
    pq.write_table(pa.table(data), path)
    conn = duckdb.connect()
    landed = read_landing_file(path, SNAPSHOTS)
    run_row_checks(conn, SNAPSHOTS, landed)
    return landed, flagged_rows_by_rule(conn)


def test_parquet_core_system_types_load(tmp_path):
    decimal = pa.decimal128(38, 10)
    landed, flagged = _parquet(tmp_path, {
        "balance": pa.array([Decimal("2500.50"), Decimal(0), Decimal("2500.505")], decimal),
        "credit_limit": pa.array([Decimal(10000)] * 3, decimal),
        "days_past_due": pa.array([0, 0, 0], pa.int32()),
        "product": pa.array(["revolving"] * 3).dictionary_encode(),
        "currency": pa.array(["CNY"] * 3, pa.large_string()),
        "next_due_date": pa.array([1778457600, 1778457600 + 3600, None], pa.timestamp("s")),
        "open_date": pa.array([1736899200_000] * 3, pa.timestamp("ms")),  # 2025-01-15 00:00
    })
    assert landed.table["balance"].to_pylist() == ["2500.50", "0.00", "2500.5050000000"]
    due = landed.table["next_due_date"].to_pylist()
    assert (due[0], due[1][:16], due[2]) == ("2026-05-11", "2026-05-11T01:00", None)
    assert landed.table["open_date"].to_pylist() == ["2025-01-15"] * 3
    # the third decimal on row 3 and the non-midnight date on row 2 are the only violations
    assert flagged == {"balance_type": {3}, "next_due_date_type": {2}}


def test_a_zoned_midnight_is_the_date_in_its_zone(tmp_path):
    zoned = pa.array([1778428800] * 3, pa.timestamp("s", tz="UTC")).cast(
        pa.timestamp("s", tz="Asia/Shanghai"))  # 2026-05-11 00:00 in Shanghai
    landed, flagged = _parquet(tmp_path, {"next_due_date": zoned})
    assert landed.table["next_due_date"].to_pylist() == ["2026-05-11"] * 3
    assert flagged == {}


def test_csv_gz_reads_like_csv_and_keeps_the_landed_sha(tmp_path):
    rows = [snapshot_row(number=n) for n in (1, 2)]
    plain = write_csv(tmp_path / "plain.csv", rows, SNAPSHOT_COLUMNS).read_bytes()
    path = _snapshot_path(tmp_path, "csv.gz")
    path.write_bytes(gzip.compress(plain))
    landed = read_landing_file(path, SNAPSHOTS)
    assert landed.table["account_id"].to_pylist() == ["AC00000001", "AC00000002"]
    assert landed.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    path.write_bytes(gzip.compress(plain)[:-20])
    with pytest.raises(FileRejected) as error:
        read_landing_file(path, SNAPSHOTS)
    assert error.value.rule == "file_unreadable"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(FileRejected) as error:
        read_landing_file(path, SNAPSHOTS)
    assert error.value.rule == "file_unreadable"


def test_gzip_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERDUE_GZIP_MAX_RATIO", "20")
    header = (",".join(SNAPSHOT_COLUMNS) + "\n").encode()
    path = _snapshot_path(tmp_path, "csv.gz")
    path.write_bytes(gzip.compress(header + b" " * (3 << 20)))  # 3 MB of spaces, ~3 kB landed
    with pytest.raises(FileRejected) as error:
        read_landing_file(path, SNAPSHOTS)
    assert error.value.rule == "file_too_large"


def test_gb18030_customers_load_with_the_contract_encoding_and_are_rejected_without(tmp_path):
    names = ["欧阳娜娜", "龘䶮"]  # the second is outside GBK, inside GB18030
    rows = [customer_row(n + 1, full_name=name) for n, name in enumerate(names)]
    path = write_csv(tmp_path / "landing" / "customers" / f"{NIGHT}.csv", rows, CUSTOMER_COLUMNS)
    path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))
    with pytest.raises(FileRejected) as error:
        read_landing_file(path, CUSTOMERS)
    assert error.value.rule == "file_encoding"
    assert "offset" in error.value.message and "line 2" in error.value.message
    contract_file = tmp_path / "customers.odcs.yaml"
    shutil.copy(CUSTOMERS.path, contract_file)
    contract_file.write_text(contract_file.read_text().replace(
        "  - property: encoding\n    value: utf-8", "  - property: encoding\n    value: gb18030"))
    gb = parse_contract(contract_file)
    assert gb.encoding == "gb18030"
    landed = read_landing_file(path, gb)
    assert landed.table["full_name"].to_pylist() == names
    assert "decoded from gb18030" in landed.notes


def test_max_length_is_a_quarantined_row_in_both_engines(tmp_path):
    from pipelines.lib.ingest.ge_suite import validate_with_ge

    rows = [customer_row(1), customer_row(2, full_name="名" * 201), customer_row(3, full_name="名" * 200),
            customer_row(4, customer_id="C" * 65)]
    path = write_csv(tmp_path / "landing" / "customers" / f"{NIGHT}.csv", rows, CUSTOMER_COLUMNS)
    conn = duckdb.connect()
    landed = read_landing_file(path, CUSTOMERS)
    run_row_checks(conn, CUSTOMERS, landed)
    assert flagged_rows_by_rule(conn) == {"full_name_max_length": {2}, "customer_id_max_length": {4}}
    outcomes = {o.rule: o.row_numbers for o in
                validate_with_ge(landed.table, CUSTOMERS, NIGHT, complete=True) if o.row_numbers}
    assert outcomes == {"full_name_max_length": {2}, "customer_id_max_length": {4}}


def test_a_huge_value_is_quarantined_with_a_truncated_record(tmp_path):
    rows = [snapshot_row(number=1), snapshot_row(number=2, product="x" * 1_000_000), snapshot_row(number=3)]
    path = write_csv(_snapshot_path(tmp_path), rows, SNAPSHOT_COLUMNS)
    conn = duckdb.connect()
    result = ingest_file(conn, SNAPSHOTS, path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    rule, message, raw = conn.execute("select rule, message, raw_record from quarantine").fetchone()
    assert rule == "product_max_length"
    assert len(message) < 400 and "1000000 characters" in message
    assert raw.startswith('{"snapshot_date":"2026-05-03"') and "characters in all]" in raw
    assert len(raw) < 2100


def test_a_field_longer_than_a_parse_block_does_not_stop_the_file(tmp_path):
    rows = [snapshot_row(number=1), snapshot_row(number=2, product="y" * (20 << 20)), snapshot_row(number=3)]
    path = write_csv(_snapshot_path(tmp_path), rows, SNAPSHOT_COLUMNS)
    landed = read_landing_file(path, SNAPSHOTS)
    assert landed.table["__row_number"].to_pylist() == [1, 2, 3]
