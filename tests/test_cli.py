"""The `overdue` console script: exit codes and one-line messages, run as a real subprocess."""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import NIGHT, SNAPSHOT_COLUMNS, snapshot_row, write_csv, write_night

OVERDUE = [sys.executable, "-m", "pipelines.cli"]


def overdue(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"OVERDUE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster_home")}
    return subprocess.run([*OVERDUE, *args], capture_output=True, text=True, env=env, timeout=300,
                          check=False)


def test_validate_clean_file_exits_zero(tmp_path):
    path = write_csv(tmp_path / "account_snapshots" / f"{NIGHT}.csv", [snapshot_row()], SNAPSHOT_COLUMNS)
    result = overdue(tmp_path, "validate", str(path))
    assert result.returncode == 0, result.stderr
    assert "1 rows, 1 clean, 0 would be quarantined" in result.stdout


def test_validate_dirty_file_prints_row_column_rule_value(tmp_path):
    rows = [snapshot_row(), snapshot_row(number=2, currency="RMB"), snapshot_row(number=3, balance="x")]
    path = write_csv(tmp_path / "account_snapshots" / f"{NIGHT}.csv", rows, SNAPSHOT_COLUMNS)
    result = overdue(tmp_path, "validate", str(path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["row", "column", "rule", "value"]
    assert lines[2].split() == ["2", "currency", "currency_valid_values", "'RMB'"]
    assert lines[3].split() == ["3", "balance", "balance_type", "'x'"]
    assert "  currency_valid_values: 1" in lines
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_validate_rejected_file_names_the_defect(tmp_path):
    path = tmp_path / "account_snapshots" / f"{NIGHT}.csv"
    path.parent.mkdir()
    path.write_bytes(b"")
    result = overdue(tmp_path, "validate", str(path))
    assert result.returncode == 1
    assert "REJECTED" in result.stdout and "file is empty" in result.stdout


def test_validate_missing_file_is_one_line_on_stderr(tmp_path):
    result = overdue(tmp_path, "validate", str(tmp_path / "nope.csv"))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "no such file" in result.stderr


def test_run_failure_is_one_line_naming_the_feed(tmp_path):
    write_night(tmp_path, NIGHT, [snapshot_row()])
    (tmp_path / "landing" / "customers" / f"{NIGHT}.csv").unlink()
    result = overdue(tmp_path, "run", "--date", str(NIGHT))
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("overdue run: night(s) 2026-05-03..2026-05-03 failed")
    assert "required feed customers has no file for 2026-05-03" in last


def test_run_then_summary(tmp_path):
    write_night(tmp_path, NIGHT, [snapshot_row(), snapshot_row(number=2, status="active")])
    result = overdue(tmp_path, "run", "--date", str(NIGHT))
    assert result.returncode == 0, result.stderr
    summary = overdue(tmp_path, "summary")
    assert "account_snapshots" in summary.stdout and "status_valid_values" in summary.stdout


def test_bad_arguments_exit_two(tmp_path):
    result = overdue(tmp_path, "run", "--date", "2026-13-01")
    assert result.returncode == 2
    assert "not a date" in result.stderr


def test_model_commands_on_an_empty_registry(tmp_path):
    listing = overdue(tmp_path, "model", "list")
    assert listing.returncode == 0 and "no model" in listing.stdout
    promote = overdue(tmp_path, "model", "promote", "v0042")
    assert promote.returncode == 1
    assert "v0042" in promote.stderr.strip().splitlines()[-1]
