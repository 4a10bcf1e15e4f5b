"""Odd names in landing never break the sensor or the definitions; a stray far-off night does not
become the start of the partitions; a file still being written is not started."""

import os
from datetime import date, timedelta

import dagster as dg

from tests.conftest import snapshot_row, write_night

ODD_NAMES = ("2026-02-30.csv", "0000-00-00.csv", "20261127.csv", "notes.txt", ".x.csv.part")


def test_odd_names_and_a_stray_old_night_leave_the_sensor_and_definitions_working(home, monkeypatch):
    from pipelines.definitions import defs
    from pipelines.defs.partitions import nightly_partitions
    from pipelines.defs.sensors import landing_sensor

    monkeypatch.delenv("OVERDUE_START_DATE")
    today = date.today()
    nights = [today - timedelta(days=2), today - timedelta(days=1)]
    for night in nights:
        write_night(home, night, [snapshot_row(night)])
    write_night(home, date(1970, 1, 1), [snapshot_row(date(1970, 1, 1))])
    snapshots = home / "landing" / "account_snapshots"
    for name in ODD_NAMES:
        (snapshots / name).write_text("snapshot_date\n")
    (snapshots / "2026-11-28.csv.gz").mkdir()
    (snapshots / "2026-11-29.csv").symlink_to(home / "gone.csv")

    # the first night is the earliest one not more than 400 days before the next landed one
    assert nightly_partitions().get_first_partition_key() == nights[0].isoformat()
    job = defs().resolve_job_def("nightly")
    assert job.partitions_def.get_first_partition_key() == nights[0].isoformat()
    with dg.DagsterInstance.ephemeral() as instance:
        requests = landing_sensor(dg.build_sensor_context(instance=instance))
    assert [r.partition_key for r in requests] == [n.isoformat() for n in nights]  # oldest first

    monkeypatch.setenv("OVERDUE_MAX_LANDING_GAP_DAYS", "100000")
    assert nightly_partitions().get_first_partition_key() == "1970-01-01"


def test_the_sensor_skips_a_night_whose_file_is_still_being_written(home, monkeypatch):
    from pipelines.defs.sensors import landing_sensor

    monkeypatch.setenv("OVERDUE_LANDING_SETTLE_SECONDS", "30")
    old, fresh = date.today() - timedelta(days=2), date.today() - timedelta(days=1)
    for night in (old, fresh):
        write_night(home, night, [snapshot_row(night)])
    for feed in ("account_snapshots", "customers"):
        path = home / "landing" / feed / f"{old}.csv"
        stamp = path.stat().st_mtime - 3600
        os.utime(path, (stamp, stamp))
    with dg.DagsterInstance.ephemeral() as instance:
        skipped = landing_sensor(dg.build_sensor_context(instance=instance))
        assert [r.partition_key for r in skipped] == [old.isoformat()]
        monkeypatch.setenv("OVERDUE_CONTROL_FILES", "required")
        waiting = landing_sensor(dg.build_sensor_context(instance=instance))
        assert isinstance(waiting, dg.SkipReason)
        assert f"waiting for control file {old}.csv.ok" in waiting.skip_message


def test_the_dagster_yaml_queues_runs_one_at_a_time_and_retries_failures(tmp_path):
    from pipelines.cli import ensure_dagster_yaml

    ensure_dagster_yaml(tmp_path / "new")
    instance = dg.DagsterInstance.from_config(str(tmp_path / "new"))
    assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
    assert instance.run_coordinator.get_run_queue_config().max_concurrent_runs == 1
    assert (instance.run_retries_enabled, instance.run_retries_max_retries) == (True, 2)

    own = tmp_path / "own"
    own.mkdir()
    (own / "dagster.yaml").write_text("run_queue:\n  max_concurrent_runs: 3\n")
    ensure_dagster_yaml(own)
    ensure_dagster_yaml(own)  # idempotent: nothing appended twice
    instance = dg.DagsterInstance.from_config(str(own))
    assert instance.run_coordinator.get_run_queue_config().max_concurrent_runs == 3  # kept
    assert instance.run_retries_max_retries == 2
    assert (own / "dagster.yaml").read_text().count("run_retries") == 1


def test_an_instance_with_its_own_run_coordinator_gets_no_run_queue(tmp_path):
    """The Helm chart's dagster.yaml names a run_coordinator; Dagster refuses a run_queue beside
    it, so the product's run_queue is not added there."""
    from pipelines.cli import ensure_dagster_yaml

    chart = tmp_path / "chart"
    chart.mkdir()
    (chart / "dagster.yaml").write_text(
        "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: QueuedRunCoordinator\n"
        "  config:\n    max_concurrent_runs: 4\n")
    ensure_dagster_yaml(chart)
    text = (chart / "dagster.yaml").read_text()
    assert "run_queue" not in text and "run_retries" in text
    instance = dg.DagsterInstance.from_config(str(chart))
    assert instance.run_coordinator.get_run_queue_config().max_concurrent_runs == 4


def test_a_split_run_on_an_instance_with_its_own_storage_starts_no_local_postgres(tmp_path):
    """A Helm chart's instance names its PostgreSQL: the split run uses it as it is, and does not
    start (or even look for) the local server it would use otherwise."""
    from pipelines.cli import split_book_dagster_yaml

    chart = tmp_path / "chart"
    chart.mkdir()
    written = "storage:\n  postgres:\n    postgres_url: postgresql://chart/dagster\n"
    (chart / "dagster.yaml").write_text(written)

    def local_server():
        raise AssertionError("the local PostgreSQL was asked for")

    split_book_dagster_yaml(chart, local_server, 2)
    assert (chart / "dagster.yaml").read_text() == written
    assert (chart / "workspace.yaml").exists()
    fresh = tmp_path / "fresh"
    split_book_dagster_yaml(fresh, lambda: "postgresql://local/dagster", 2)
    assert "postgresql://local/dagster" in (fresh / "dagster.yaml").read_text()


def test_make_ui_on_a_split_book_gets_the_split_instance(tmp_path, monkeypatch):
    """`make ui` first on a split book: its sensor launches shard runs side by side, so the
    instance must be PostgreSQL's with the shard workers' queue, not SQLite's one-at-a-time."""
    import yaml

    from pipelines.cli import ensure_instance

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "split"))
    monkeypatch.setenv("OVERDUE_SHARDS", "4")
    monkeypatch.setenv("OVERDUE_SHARD_WORKERS", "3")
    monkeypatch.setenv("OVERDUE_DAGSTER_POSTGRES_URL", "postgresql://db/dagster")
    written = yaml.safe_load(ensure_instance().read_text())
    assert written["storage"] == {"postgres": {"postgres_url": "postgresql://db/dagster"}}
    assert written["run_queue"]["max_concurrent_runs"] == 3
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "one"))
    monkeypatch.setenv("OVERDUE_SHARDS", "1")
    written = yaml.safe_load(ensure_instance().read_text())
    assert "storage" not in written and written["run_queue"]["max_concurrent_runs"] == 1
