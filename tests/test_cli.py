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


def runs_as_the_ui_lists_them(home: Path, monkeypatch):
    """The job page's runs (filtered by the repository label, as the webserver filters them), and
    the backfills of the Backfills tab, read from the run's own Dagster instance."""
    from dagster import DagsterInstance
    from dagster._core.storage.dagster_run import RunsFilter
    from dagster._core.storage.tags import REPOSITORY_LABEL_TAG

    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    instance = DagsterInstance.get()
    job_page = instance.get_runs(RunsFilter(
        job_name="nightly", tags={REPOSITORY_LABEL_TAG: "__repository__@overdue"}))
    return instance, job_page, instance.get_backfills()


def test_a_run_carries_the_code_locations_origin(tmp_path, monkeypatch):
    write_night(tmp_path, NIGHT, [snapshot_row()])
    result = overdue(tmp_path, "run", "--date", str(NIGHT), "--groups", "ingest")
    assert result.returncode == 0, result.stderr
    _, job_page, backfills = runs_as_the_ui_lists_them(tmp_path, monkeypatch)
    assert len(job_page) == 1
    origin = job_page[0].remote_job_origin
    assert origin.location_name == "overdue" and origin.job_name == "nightly"
    assert origin.repository_origin.repository_name == "__repository__"
    assert job_page[0].tags["dagster/partition"] == str(NIGHT)
    assert "dagster/backfill" not in job_page[0].tags and backfills == []


def test_a_backfill_is_one_run_recorded_as_a_backfill(tmp_path, monkeypatch):
    from datetime import timedelta

    from dagster._core.execution.backfill import BulkActionStatus
    from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter

    nights = [NIGHT - timedelta(days=1), NIGHT]
    for night in nights:
        write_night(tmp_path, night, [snapshot_row(night)])
    result = overdue(tmp_path, "backfill", "--start", str(nights[0]), "--end", str(nights[1]),
                     "--groups", "ingest")
    assert result.returncode == 0, result.stderr
    instance, job_page, backfills = runs_as_the_ui_lists_them(tmp_path, monkeypatch)
    assert len(job_page) == 1 and len(backfills) == 1
    run, backfill = job_page[0], backfills[0]
    assert run.status == DagsterRunStatus.SUCCESS
    assert run.tags["dagster/backfill"] == backfill.backfill_id
    assert [r.run_id for r in instance.get_runs(
        RunsFilter(tags={"dagster/backfill": backfill.backfill_id}))] == [run.run_id]
    assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS
    assert backfill.is_asset_backfill
    data = backfill.asset_backfill_data
    targeted = {(k.to_user_string(), p) for k, p in data.target_subset.iterate_asset_partitions()}
    assert ("account_snapshots", str(nights[0])) in targeted
    assert ("account_snapshots", str(nights[1])) in targeted
    assert not any(group in k for k, _ in targeted for group in ("account_features", "risk_report"))
    assert data.materialized_subset == data.target_subset


def test_a_failed_backfill_is_recorded_failed_with_one_line(tmp_path, monkeypatch):
    from datetime import timedelta

    from dagster._core.execution.backfill import BulkActionStatus

    nights = [NIGHT - timedelta(days=1), NIGHT]
    for night in nights:
        write_night(tmp_path, night, [snapshot_row(night)])
    (tmp_path / "landing" / "account_snapshots" / f"{nights[1]}.csv").write_bytes(b"\xff\xfe bad")
    result = overdue(tmp_path, "backfill", "--start", str(nights[0]), "--end", str(nights[1]),
                     "--groups", "ingest")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"overdue backfill: night(s) {nights[0]}..{nights[1]} failed")
    _, job_page, backfills = runs_as_the_ui_lists_them(tmp_path, monkeypatch)
    assert len(job_page) == 1 and len(backfills) == 1
    assert backfills[0].status == BulkActionStatus.COMPLETED_FAILED
    assert job_page[0].tags["dagster/backfill"] == backfills[0].backfill_id


def test_two_runs_in_one_process_each_use_their_own_home(tmp_path, monkeypatch):
    """Dagster keeps a reconstructed job's definition process-wide: the second run must still
    write the warehouse of its own $OVERDUE_HOME (tests and `overdue demo` run several)."""
    import duckdb

    from pipelines.cli import run_nights
    from tests.conftest import use_home

    for name in ("first", "second"):
        home = use_home(monkeypatch, tmp_path / name)
        write_night(home, NIGHT, [snapshot_row()])
        run_nights(NIGHT, NIGHT)  # the whole job: a subset would be reconstructed afresh
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
            assert conn.execute("select count(*) from account_snapshots").fetchone() == (1,)
