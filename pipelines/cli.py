"""`overdue`: validate a file, run a night or a backfill through Dagster, read what it built.

Exit codes: 0 success; 1 the work failed (a rejected file, a failed night, a dirty file for
`validate`); 2 the command was used wrongly. A failure prints one line to stderr.
"""

from __future__ import annotations

import argparse
import fcntl
import functools
import itertools
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from datetime import date, timedelta
from importlib.metadata import entry_points
from pathlib import Path

from pipelines import settings

log = logging.getLogger("overdue")


class CommandError(Exception):
    """A failure to report as one line on stderr, exit code 1."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from exc


DAGSTER_YAML = {
    "telemetry": {"enabled": False},
    # DuckDB has one writer: nights the sensor starts together run one after another
    "run_queue": {"max_concurrent_runs": 1},
    # a night that failed (e.g. on a warehouse another process held) is run again
    "run_retries": {"enabled": True, "max_retries": 2},
}


def ensure_dagster_yaml(home: Path | None = None) -> Path:
    """The instance's dagster.yaml (also written by `make ui`): a missing file gets the product's
    settings; an existing one gains only the top-level sections it lacks, its own are kept (and
    no `run_queue` beside a `run_coordinator` of its own, as a Helm chart writes: Dagster refuses
    the two together)."""
    import yaml

    home = home or Path(os.environ.get("DAGSTER_HOME", str(settings.dagster_home())))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    present = (yaml.safe_load(config.read_text()) or {}) if config.exists() else {}
    missing = {key: value for key, value in DAGSTER_YAML.items() if key not in present
               and not (key == "run_queue" and "run_coordinator" in present)}
    if missing:
        with config.open("a") as handle:
            if config.stat().st_size and not config.read_text().endswith("\n"):
                handle.write("\n")
            handle.write(yaml.safe_dump(missing, sort_keys=False))
    return config


def ensure_instance() -> Path:
    """The instance `make ui` starts on: a split book's (PostgreSQL, the run queue at
    `OVERDUE_SHARD_WORKERS`: its sensor launches shard runs side by side) when the book is split,
    else the one-warehouse one."""
    return split_instance() if settings.shard_count() > 1 else ensure_dagster_yaml()


def split_instance() -> Path:
    """The split book's dagster.yaml in $DAGSTER_HOME: its PostgreSQL (the configured one, or
    the home's own, started only when the file is written), `OVERDUE_SHARD_WORKERS` runs at once."""
    home = Path(os.environ.get("DAGSTER_HOME", str(settings.dagster_home())))
    return split_book_dagster_yaml(
        home, lambda: settings.dagster_postgres_url() or local_postgres(), settings.shard_workers())


@functools.cache
def _sqlite_synchronous() -> None:
    """The instance's SQLite files commit as `OVERDUE_DAGSTER_SQLITE_SYNC` says: Dagster writes
    every event of a run in a transaction (and a connection) of its own, and a night's planned
    events alone are about a hundred of them before its first step, each an fsync by default.
    Only files under $DAGSTER_HOME are concerned."""
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _connect(connection, _record) -> None:
        home = os.environ.get("DAGSTER_HOME")
        if not home or not isinstance(connection, sqlite3.Connection):
            return
        path = connection.execute("pragma database_list").fetchone()[2]
        if path and Path(path).resolve().is_relative_to(Path(home).resolve()):
            connection.execute(f"pragma synchronous = {settings.dagster_sqlite_synchronous()}")


def _dagster_instance():
    import dagster as dg

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home())))
    ensure_dagster_yaml(home)
    _sqlite_synchronous()
    # Opening the instance creates and stamps its SQLite storages; two runs launched at once on a
    # new home would race on that (UNIQUE constraint failed: alembic_version), so one at a time.
    with open(home / ".instance.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return dg.DagsterInstance.get()


def _failure_reason(result) -> str:
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            data = event.step_failure_data.user_failure_data
            text = (data.description if data and data.description else None) or (
                error.message if error else "step failed")
            return f"{event.step_key}: {text.strip().splitlines()[0]}"
    return "run failed"


REPOSITORY = "__repository__"  # the one repository of a code location built by @dg.definitions


def code_location_name() -> str:
    """The location's name as `dg dev` shows it: `[tool.dg.project] code_location_name`."""
    import tomllib

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text()).get("tool", {}).get("dg", {}).get(
            "project", {})
        return project.get("code_location_name", "overdue")
    return "overdue"


@contextmanager
def code_location(instance):
    """The code location `overdue`, loaded in this process the way the UI's workspace loads it
    (module `pipelines.definitions`), so a run made from it carries the location's origin: the
    job's Runs tab, the Overview timeline and re-execution find it."""
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    origin = InProcessCodeLocationOrigin(
        loadable_target_origin=LoadableTargetOrigin(
            executable_path=sys.executable, module_name="pipelines.definitions",
            working_directory=str(Path(__file__).resolve().parent.parent)),
        location_name=code_location_name())
    with origin.create_location(instance) as location:
        yield location


def _record_backfill(instance, backfill_id: str, job, selection, nights: list[str],
                     started: float, result) -> None:
    """A range of nights is a backfill in the UI's Backfills tab: one single run (the run is
    tagged with the backfill), recorded when it has ended so that the daemon, which launches the
    runs of REQUESTED backfills, never launches it a second time."""
    from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
    from dagster._core.definitions.events import AssetKeyPartitionKey
    from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill

    graph = job.asset_layer.asset_graph
    keys = selection or [node.key for node in graph.asset_nodes if node.is_executable]
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=backfill_id, asset_graph=graph, partition_names=nights, asset_selection=keys,
        backfill_timestamp=started, tags={"overdue/command": "backfill"},
        dynamic_partitions_store=instance, all_partitions=False,
        title=f"overdue backfill {nights[0]} .. {nights[-1]}",
        description=f"{len(nights)} nights as one run (overdue backfill)", run_config=None)
    done = {AssetKeyPartitionKey(e.asset_key, e.partition)
            for e in result.get_asset_materialization_events()}
    data = backfill.asset_backfill_data
    data = data._replace(
        materialized_subset=AssetGraphSubset.from_asset_partition_set(done, graph),
        failed_and_downstream_subset=AssetGraphSubset.create_empty_subset() if result.success
        else data.target_subset - AssetGraphSubset.from_asset_partition_set(done, graph))
    status = (BulkActionStatus.COMPLETED_SUCCESS if result.success
              else BulkActionStatus.COMPLETED_FAILED)
    instance.add_backfill(backfill._replace(asset_backfill_data=data).with_status(status)
                          .with_end_timestamp(time.time()))


def nightly_job():
    """The job `nightly` of the code location, its Definitions loaded once per process (and
    again only when the settings they are built from change), not once per night."""
    from pipelines.definitions import loaded_definitions

    return loaded_definitions().resolve_job_def("nightly")


def split_book_dagster_yaml(home: Path, postgres_url: str | Callable[[], str],
                            workers: int) -> Path:
    """A split book's Dagster instance: run and event storage in PostgreSQL (its shards' runs
    write at once), runs queued and launched by the daemon, `workers` at a time, each in a
    process of its own; the workspace the daemon loads the code location from. An instance that
    already has a storage section (one an operator or a Helm chart wrote) is left as it is, and
    `postgres_url`, when a function (which may start the local server), is then not called."""
    import yaml

    home.mkdir(parents=True, exist_ok=True)
    existing = home / "dagster.yaml"
    if existing.exists() and "storage" in (yaml.safe_load(existing.read_text()) or {}):
        if not (home / "workspace.yaml").exists():
            _write_workspace(home)
        return existing
    config = {**DAGSTER_YAML,
              "storage": {"postgres": {"postgres_url": postgres_url() if callable(postgres_url)
                                       else postgres_url}},
              "run_queue": {"max_concurrent_runs": workers, "dequeue_interval_seconds": 1},
              "run_launcher": {"module": "dagster", "class": "DefaultRunLauncher"}}
    existing.write_text(yaml.safe_dump(config, sort_keys=False))
    _write_workspace(home)
    return existing


def _write_workspace(home: Path) -> None:
    import yaml

    (home / "workspace.yaml").write_text(yaml.safe_dump({"load_from": [{"python_module": {
        "module_name": "pipelines.definitions", "location_name": code_location_name(),
        "working_directory": str(Path(__file__).resolve().parent.parent)}}]}, sort_keys=False))


def local_postgres() -> str:
    """Start the home's PostgreSQL (scripts/postgres) if it is not running; its URL."""
    script = Path(__file__).resolve().parent.parent / "scripts" / "postgres"
    done = subprocess.run([str(script), "start"], capture_output=True, text=True, check=False)
    if done.returncode:
        raise CommandError(f"the local PostgreSQL did not start: {done.stderr.strip()[-500:]}")
    return done.stdout.strip().splitlines()[-1]


@contextmanager
def running_daemon(instance):
    """The Dagster daemon for the instance (it dequeues and launches the queued runs): the one
    already running (`make ui`'s), or one started here for the length of the block, whose
    heartbeats are wiped when it stops (a later call must not take them for a live daemon).
    Yields a function that says whether the daemon still runs."""
    from dagster._daemon.controller import get_daemon_statuses

    home = Path(os.environ["DAGSTER_HOME"])
    started_here = home / ".split-daemon"
    if started_here.exists():  # a killed command's daemon: its last heartbeats are no live daemon's
        instance.wipe_daemon_heartbeats()
        started_here.unlink()
    statuses = get_daemon_statuses(instance, ["QUEUED_RUN_COORDINATOR"],
                                   heartbeat_tolerance_seconds=15)
    if statuses["QUEUED_RUN_COORDINATOR"].healthy:
        yield lambda: get_daemon_statuses(instance, ["QUEUED_RUN_COORDINATOR"],
                                          heartbeat_tolerance_seconds=60
                                          )["QUEUED_RUN_COORDINATOR"].healthy
        return
    log = (home / "daemon.log").open("ab")
    # in the command's process group: a kill of `overdue run` takes the daemon and the runs it
    # launched down with it, none is left running orphaned
    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w",
         str(home / "workspace.yaml")], stdout=log, stderr=subprocess.STDOUT)
    started_here.touch()
    try:
        yield lambda: daemon.poll() is None
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        log.close()
        instance.wipe_daemon_heartbeats()
        started_here.unlink(missing_ok=True)


def run_split_nights(nights: list[date], accept_volume_change: tuple[str, str] | None = None,
                     parallel: bool = True) -> None:
    """Nights of a book split into customer shards, one after another, each as Dagster runs of the
    jobs `nightly_shard` (partition night|shard) and `nightly` (partition night), phase after phase of
    the asset graph (`night_phases`): a phase's shard runs are queued together and the daemon
    launches them `OVERDUE_SHARD_WORKERS` at a time, each in its own process; the next phase is
    queued when every run of this one has succeeded. `parallel=False` runs them here, one after
    another, on the home's own instance (no PostgreSQL, no daemon)."""
    if parallel:
        os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home()))
        split_instance()
    instance = _dagster_instance()
    nightly_job()
    with (_one_split_command() if parallel else nullcontext()):
        if parallel:
            _end_stale_runs(instance, nights)
        _run_split_phases(instance, nights, accept_volume_change, parallel)


def _run_split_phases(instance, nights: list[date], accept_volume_change, parallel: bool) -> None:
    from dagster._core.execution.api import execute_run

    from pipelines.defs.partitions import PER_SHARD_ASSETS, night_phases, phase_runs

    with code_location(instance) as location, (running_daemon(instance) if parallel
                                               else nullcontext()) as daemon_alive:
        for night, (shard_steps, keys) in itertools.product(
                nights, night_phases(_asset_graph(), set(PER_SHARD_ASSETS))):
            job_name, partitions = phase_runs(night, shard_steps)
            recon, remote, job = _fresh_job(location, job_name)
            queued = []
            for partition in partitions:
                tags = (dict(job.get_tags_for_partition_key(partition, selected_asset_keys=keys))
                        | _acceptance_tags(accept_volume_change) | SPLIT_RUN_TAGS)
                run = instance.create_run_for_job(
                    job_def=job, run_config=RUN_CONFIG, tags=tags, asset_selection=frozenset(keys),
                    remote_job_origin=remote.get_remote_origin(),
                    job_code_origin=remote.get_python_origin())
                if parallel:
                    queued.append((partition, _queue_run(instance, run)))
                    continue
                result = execute_run(recon, run, instance, raise_on_error=False)
                if not result.success:
                    raise CommandError(f"night {night}, {job_name} {partition} failed: "
                                       f"{_failure_reason(result)}")
            for index, (partition, run_id) in enumerate(queued):
                status = _await_run(instance, run_id, daemon_alive)
                if status != "SUCCESS":
                    _stop_runs(instance, [other for _, other in queued[index + 1:]])
                    raise CommandError(f"night {night}, {job_name} {partition}: run {run_id} "
                                       f"{status.lower()}: {_run_failure(instance, run_id)}")


def _stop_runs(instance, run_ids: list[str], timeout_s: float = 60) -> None:
    """The phase's other runs, when one has failed: canceled if still queued, else terminated
    through the run launcher, and waited for, so that none goes on writing once the command (and
    the daemon whose code server runs them) has gone."""
    from dagster import DagsterRunStatus

    for run_id in run_ids:
        instance.run_coordinator.cancel_run(run_id)
    deadline = time.monotonic() + timeout_s
    final = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
    while time.monotonic() < deadline and any(
            instance.get_run_by_id(run_id).status not in final for run_id in run_ids):
        time.sleep(0.5)


# A split night's runs made by `overdue run`. The command is the retry: it stops at a failed run
# and names it, so the daemon must not launch a retry of it after the command has gone.
SPLIT_RUN_TAGS = {"overdue/command": "run", "dagster/max_retries": "0"}


@contextmanager
def _one_split_command():
    """One `overdue run` of a split book at a time on an instance: while this command holds the
    lock, a run of its nights that an earlier command left unfinished belongs to a dead command."""
    from pipelines.defs.sensors import SPLIT_RUN_LOCK

    home = Path(os.environ["DAGSTER_HOME"])
    with open(home / SPLIT_RUN_LOCK, "a") as lock:
        deadline = time.monotonic() + 5  # the sensor's look at the lock takes it for an instant
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as busy:
                if time.monotonic() > deadline:
                    raise CommandError(f"another `overdue run` of this split book is running "
                                       f"(instance {home}); wait for it to end") from busy
                time.sleep(0.1)
        yield


def _end_stale_runs(instance, nights: list[date]) -> None:
    """Runs of these nights left unfinished by an earlier `overdue run` that was killed or failed,
    ended before this command launches its own, so that the UI shows what happened and the daemon
    launches none of them beside it: still queued (from any origin), canceled; not started,
    starting or started by an earlier command (whose process group, runs included, is gone:
    Dagster's run monitoring cannot check a DefaultRunLauncher's workers), marked failed."""
    from dagster import DagsterRunStatus, RunsFilter

    wanted = {night.isoformat() for night in nights}
    unfinished = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED,
                  DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
    for run in instance.get_runs(RunsFilter(statuses=unfinished)):
        night = run.tags.get("dagster/partition/night", run.tags.get("dagster/partition"))
        if run.job_name not in ("nightly", "nightly_shard") or night not in wanted:
            continue
        if run.status == DagsterRunStatus.QUEUED:
            instance.report_run_canceled(run, message="queued by an earlier overdue run of the "
                                         "night that did not finish")
        elif run.tags.get("overdue/command") == "run":
            instance.report_run_failed(run, message="left unfinished by an earlier overdue run "
                                       "of the night that was stopped; ended by the next one")


RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def _fresh_job(location, job_name: str):
    """(reconstructable job, remote job, definition) of the location's job, loaded again.

    A ReconstructableJob keeps the last definition it loaded, process-wide (lru_cache): a second
    run in one process (tests, `overdue demo`) must get resources built from the settings of
    now, not from the first run's $OVERDUE_HOME (the Definitions themselves are built again only
    when those settings changed: pipelines/definitions.py)."""
    recon = location.get_reconstructable_job(REPOSITORY, job_name)
    type(recon).get_definition.cache_clear()
    type(recon).get_repository_definition.cache_clear()
    return recon, location.get_repository(REPOSITORY).get_full_job(job_name), recon.get_definition()


def _acceptance_tags(accept_volume_change: tuple[str, str] | None) -> dict:
    """The run tags of an operator's acceptance of a volume change (reason, who), as in the UI."""
    if not accept_volume_change:
        return {}
    from pipelines.lib.ingest.volume import ACCEPT_BY_TAG, ACCEPT_TAG

    return {ACCEPT_TAG: accept_volume_change[0], ACCEPT_BY_TAG: accept_volume_change[1]}


def _queue_run(instance, run) -> str:
    from dagster._core.run_coordinator import SubmitRunContext

    instance.run_coordinator.submit_run(SubmitRunContext(run, workspace=None))
    return run.run_id


def _await_run(instance, run_id: str, daemon_alive) -> str:
    """The run's final status, once it has one (a queued run waits for a free worker); a run
    still queued when the daemon that would launch it has stopped is an error, not a wait."""
    from dagster import DagsterRunStatus

    final = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
    while (status := instance.get_run_by_id(run_id).status) not in final:
        if status == DagsterRunStatus.QUEUED and not daemon_alive():
            raise CommandError(f"run {run_id} is queued and no Dagster daemon runs to launch it "
                               f"(its log: {Path(os.environ['DAGSTER_HOME']) / 'daemon.log'})")
        time.sleep(0.5)
    return status.value


def _run_failure(instance, run_id: str) -> str:
    """The first failed step of a run and its message, from the run's events; for a run whose
    process died, the steps it had started and did not end, and how the process ended."""
    import dagster as dg

    kinds = dg.DagsterEventType
    started, crash = [], None
    for record in instance.get_records_for_run(run_id, of_type={
            kinds.STEP_FAILURE, kinds.STEP_START, kinds.STEP_SUCCESS, kinds.ENGINE_EVENT}).records:
        event = record.event_log_entry.dagster_event
        if event.event_type == kinds.STEP_FAILURE:
            data = event.step_failure_data
            text = ((data.user_failure_data.description if data.user_failure_data else None)
                    or (data.error.message if data.error else "step failed"))
            return f"{event.step_key}: {text.strip().splitlines()[0]}"
        if event.event_type == kinds.STEP_START:
            started.append(event.step_key)
        elif event.event_type == kinds.STEP_SUCCESS and event.step_key in started:
            started.remove(event.step_key)
        elif "Run execution process for" in (event.message or ""):
            crash = event.message.split(" This usually")[0]
    if started:
        return (f"step {', '.join(started)} did not end: "
                f"{crash or 'the run was stopped or its process died'}")
    return crash or "no step failed (the run was stopped or its process died)"


def _asset_graph():
    from pipelines.definitions import loaded_definitions

    return loaded_definitions().resolve_asset_graph()


def run_nights(start: date, end: date, groups: list[str] | None = None,
               accept_volume_change: tuple[str, str] | None = None) -> None:
    """Materialise every asset (or those of `groups`) for nights start..end as one Dagster run,
    executed in this process (DuckDB has one writer) but made from the code location, as the UI
    makes its runs; a range of nights is also recorded as a backfill. `accept_volume_change`
    (reason, who) goes on the run as the tags an analyst would add in the UI."""
    from dagster._core.execution.api import execute_run
    from dagster._core.storage.tags import BACKFILL_ID_TAG
    from dagster._core.utils import make_new_backfill_id

    from pipelines.defs.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG

    if settings.shard_count() > 1:
        if groups:
            raise CommandError("a book split into shards runs whole nights (no --group)")
        run_split_nights([start + timedelta(days=offset) for offset in range((end - start).days + 1)],
                         accept_volume_change)
        return
    instance = _dagster_instance()
    nightly_job()
    with code_location(instance) as location:
        recon, remote, job = _fresh_job(location, "nightly")
        keys = job.partitions_def.get_partition_keys()
        known_nights = set(keys)
        for night in (start, end):
            if night.isoformat() not in known_nights:
                raise CommandError(
                    f"night {night} is outside the partitions ({min(keys)} .. {max(keys)}); "
                    "partitions start at the first landed account_snapshots file")
        selection = None
        if groups:
            known = {node.group_name for node in job.asset_layer.asset_graph.asset_nodes}
            unknown = sorted(set(groups) - known)
            if unknown:
                raise CommandError(f"unknown asset group(s) {unknown}; known: {sorted(known)}")
            selection = [node.key for node in job.asset_layer.asset_graph.asset_nodes
                         if node.group_name in groups and node.is_executable]
        backfill_id = None
        if start == end:
            tags = dict(job.get_tags_for_partition_key(start.isoformat(),
                                                       selected_asset_keys=selection))
        else:
            backfill_id = make_new_backfill_id()
            tags = {PARTITION_RANGE_START_TAG: start.isoformat(),
                    PARTITION_RANGE_END_TAG: end.isoformat(), BACKFILL_ID_TAG: backfill_id}
        tags |= _acceptance_tags(accept_volume_change)
        started = time.time()
        run = instance.create_run_for_job(
            job_def=job, run_config=RUN_CONFIG, tags=tags,
            asset_selection=frozenset(selection) if selection else None,
            remote_job_origin=remote.get_remote_origin(),
            job_code_origin=remote.get_python_origin())
        result = execute_run(recon, run, instance, raise_on_error=False)
        if backfill_id:
            nights = [k for k in keys if start.isoformat() <= k <= end.isoformat()]
            _record_backfill(instance, backfill_id, job, selection, nights, started, result)
    if not result.success:
        gates = [c for c in result.get_asset_check_evaluations()
                 if not c.passed and c.severity.value == "ERROR" and c.description]
        if gates:
            raise CommandError(f"night(s) {start}..{end} stopped by " + "; ".join(
                f"check {c.check_name}: {c.description}" for c in gates[:3]))
        raise CommandError(f"night(s) {start}..{end} failed: {_failure_reason(result)}")
    failed_checks = [c for c in result.get_asset_check_evaluations() if not c.passed]
    for check in failed_checks:
        log.warning("check %s failed (%s)", check.check_name, check.severity.value)
    degraded = instance.get_run_by_id(run.run_id).tags.get("overdue/degraded")
    if degraded:
        # a model failure is a warning, not a failure: the night ran on the bucket alone
        log.warning("night(s) %s..%s ran in degraded mode, scores unavailable: %s; tiers on the "
                    "delinquency bucket alone, high-risk and early-warning treatments not applied",
                    start, end, degraded)


def cmd_validate(args) -> int:

    from pipelines.lib.ingest.contracts import load_contract
    from pipelines.lib.ingest.landing import FileRejected, read_landing_file
    from pipelines.lib.ingest.row_checks import run_row_checks
    from pipelines.lib.sql import render_sql

    path = Path(args.file)
    if not path.exists():
        raise CommandError(f"{path}: no such file")
    feed = args.feed or path.parent.name
    contract = load_contract(feed)
    try:
        landed = read_landing_file(path, contract)
    except FileRejected as error:
        sys.stdout.write(f"{path}: REJECTED, nothing would load: {error.message} [{error.rule}]\n")
        return 1
    conn, note = _validation_connection(contract)
    if note:
        landed.notes.append(note)
    run_row_checks(conn, contract, landed)
    violations = conn.execute(render_sql("ingest/validate_report"), {"limit": 50}).fetchall()
    counts = conn.execute(render_sql("ingest/count_violations_by_rule")).fetchall()
    (bad_rows,) = conn.execute(render_sql("ingest/count_violating_rows")).fetchone()
    bad_rows += len(landed.structural_rejects)
    out = sys.stdout
    out.write(f"{path}: feed {feed}, contract v{contract.version}, {landed.rows_read} rows, "
              f"{landed.rows_read - bad_rows} clean, {bad_rows} would be quarantined\n")
    for note in landed.notes + ([f"optional column(s) absent: {landed.absent_optional_columns}"]
                                if landed.absent_optional_columns else []):
        out.write(f"note: {note}\n")
    if not bad_rows:
        return 0
    personal = contract.personal_columns
    rows = [(r.row_number, r.column or "", r.rule, r.message) for r in landed.structural_rejects]
    rows += [(row, column, rule, "<personal data>" if column in personal else
              ("empty" if value is None else repr(value))) for row, column, rule, value in violations]
    widths = [max(len(str(x)) for x in col) for col in zip(*rows, ("row", "column", "rule", "value"))]
    header = ("row", "column", "rule", "value")
    out.write("  ".join(h.ljust(w) for h, w in zip(header, widths)) + "\n")
    for row in rows[:50]:
        out.write("  ".join(str(x).ljust(w) for x, w in zip(row, widths)) + "\n")
    out.write("violations per rule:\n")
    for rule in sorted({r.rule for r in landed.structural_rejects}):
        counts.append((rule, sum(r.rule == rule for r in landed.structural_rejects)))
    for rule, count in sorted(counts):
        out.write(f"  {rule}: {count}\n")
    return 1


def _validation_connection(contract):
    """A connection to check a file on: the warehouse, read-only, when a rule reads one of its
    tables (contact_outcomes' contact_id_known reads contact_history); else an empty one."""
    import duckdb

    from pipelines.lib.ingest.contracts import REFERENCE_KINDS

    if not any(rule.kind in REFERENCE_KINDS for rule in contract.rules):
        return duckdb.connect(), None
    path = settings.warehouse_path()
    try:
        return duckdb.connect(str(path), read_only=True), None
    except duckdb.Error as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return duckdb.connect(), (f"warehouse {path} not readable ({first[:120]}): rules that "
                                  "read its tables treat every key as unknown")


def _acceptance(args) -> tuple[str, str] | None:
    import getpass

    if not args.accept_volume_change:
        return None
    return args.reason, args.by or getpass.getuser()


def _add_acceptance(p: argparse.ArgumentParser) -> None:
    p.add_argument("--accept-volume-change", action="store_true",
                   help="accept a night's volume change that the volume gates would stop "
                   "(recorded in volume_acceptances); needs --reason")
    p.add_argument("--reason", help="why the change is accepted (with --accept-volume-change)")
    p.add_argument("--by", help="who accepts (default: the OS user)")


def cmd_run(args) -> None:
    night = args.date or (date.today() - timedelta(days=1))
    run_nights(night, night, args.groups, _acceptance(args))
    log.info("night %s done", night)


def cmd_backfill(args) -> None:
    if args.end < args.start:
        raise CommandError("--end is before --start")
    run_nights(args.start, args.end, args.groups, _acceptance(args))
    log.info("nights %s .. %s done in one run", args.start, args.end)


def cmd_import(args) -> None:
    from pipelines.adapters.taiwan import import_taiwan

    source = Path(args.path)
    if not source.exists():
        raise CommandError(f"{source}: no such file")
    summary = import_taiwan(source, settings.overdue_home(), file_format=args.format)
    log.info("imported %d accounts over %d month-end nights into %s", summary.accounts,
             len(summary.nights), settings.landing_dir())
    if summary.delinquent_with_zero_balance:
        log.warning("%d account-nights are delinquent with nothing owed: the contract will "
                    "quarantine them (see pipelines/importers/README.md)",
                    summary.delinquent_with_zero_balance)


def cmd_model(args) -> None:
    """List the registry, or overrule the gate: promote a version, roll back the champion."""
    import getpass

    from models.registry import ModelRegistry, RegistryError

    registry = ModelRegistry(settings.registry_dir())
    by = args.by or getpass.getuser()
    try:
        if args.action == "list":
            cards = registry.list()
            if not cards:
                sys.stdout.write(f"no model in {settings.registry_dir()}\n")
            for card in cards:
                metrics = card.get("metrics", {}).get("validation", card.get("metrics", {}))
                auc = metrics.get("auc") if isinstance(metrics, dict) else None
                sys.stdout.write(f"{card.get('version', '?'):<8} {card.get('status', '?'):<11} "
                                 f"AUC {auc if auc is None else round(auc, 4)}  "
                                 f"registered {card.get('registered_at', '?')}\n")
        elif args.action == "promote":
            if not args.version:
                raise CommandError("promote needs VERSION")
            registry.promote(args.version, args.reason, by)
            log.info("%s is the champion (by %s: %s)", args.version, by, args.reason)
        else:
            registry.rollback(args.reason, by)
            log.info("rolled back to %s (by %s: %s)", registry.champion(), by, args.reason)
    except RegistryError as error:
        raise CommandError(str(error)) from error


def cmd_summary(args) -> None:
    from pipelines.lib.summary import model_summary, warehouse_summary

    sys.stdout.write(warehouse_summary(settings.warehouse_path()))
    sys.stdout.write(model_summary(settings.registry_dir(), settings.warehouse_path()))


def cmd_purge(args) -> None:
    """Remove the personal-data files of letter batches and agency placement files of nights
    before --before."""
    from pipelines.lib.collections.batch import purge_batches

    purged = purge_batches(settings.letters_out_dir(), args.before)
    for entry in purged:
        log.info("%s: %d files removed (%d bytes), listed in purged.json", entry["folder"],
                 entry["files"], entry["bytes"])
    log.info("purged %d letter batches before %s under %s", len(purged), args.before,
             settings.letters_out_dir())
    from pipelines.lib.collections.agencies import placements_out_dir, purge_placements

    placed = purge_placements(placements_out_dir(), args.before)
    log.info("purged the placement files of %d nights before %s under %s", len(placed),
             args.before, placements_out_dir())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="overdue", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check one landing file against its contract, load nothing")
    p.add_argument("file")
    p.add_argument("--feed", help="default: the file's folder name")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="materialise every asset of one night (in-process Dagster run)")
    p.add_argument("--date", type=_date, help="the night, default yesterday")
    p.add_argument("--groups", nargs="+", metavar="GROUP",
                   help="only these asset groups (e.g. model), reading the tables already built")
    _add_acceptance(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("backfill", help="materialise a range of nights as one Dagster run")
    p.add_argument("--start", type=_date, required=True)
    p.add_argument("--end", type=_date, required=True)
    p.add_argument("--groups", nargs="+", metavar="GROUP",
                   help="only these asset groups (e.g. model), reading the tables already built")
    _add_acceptance(p)
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("import", help="turn an external book into landing files")
    p.add_argument("source", choices=("taiwan",), help="taiwan: the UCI 2005 card book CSV")
    p.add_argument("path")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("model", help="the model registry: list, promote VERSION, rollback")
    p.add_argument("action", choices=("list", "promote", "rollback"))
    p.add_argument("version", nargs="?")
    p.add_argument("--reason", default="manual decision")
    p.add_argument("--by", help="who decides (default: the OS user)")
    p.set_defaults(func=cmd_model)

    p = sub.add_parser("summary", help="what the warehouse holds: tables, nights, quarantine")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("purge", help="remove letter and work-list files of nights before DATE "
                       "(manifest, held list, summary and contact records stay)")
    p.add_argument("--before", type=_date, required=True, metavar="DATE")
    p.set_defaults(func=cmd_purge)

    # Commands of installed extensions (the simulator and the demo, in `tooling/`): the product
    # names none of them, so it installs and runs without them.
    for extension in entry_points(group="overdue.commands"):
        extension.load()(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "accept_volume_change", False) and not (args.reason or "").strip():
        parser.error("--accept-volume-change needs --reason (who accepts and why is recorded)")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("great_expectations", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    try:
        code = args.func(args)
    except CommandError as error:
        sys.stderr.write(f"overdue {args.command}: {error}\n")
        return 1
    except Exception as error:  # the one-line promise holds for the unexpected too
        if args.verbose:
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        sys.stderr.write(f"overdue {args.command}: {message}\n")
        return 1
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
