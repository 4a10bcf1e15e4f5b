"""Start a night as soon as every required feed for it has landed."""

import fcntl
import os
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from pipelines import settings
from pipelines.defs.jobs import nightly_job
from pipelines.defs.partitions import nightly_partitions
from pipelines.lib.ingest.inventory import file_unsettled, scan_feed


def nights_ready(landing, since: date, waiting: list[str] | None = None) -> list[tuple[date, str]]:
    """Nights after `since` whose required feeds have all landed and settled, oldest first, with
    a version stamp of the files. Odd names never raise here: they are the runs' report."""
    ready = []
    inventories = {feed: scan_feed(landing, feed) for feed in settings.FEEDS_REQUIRED}
    required_controls = settings.control_files() == "required"
    for night in sorted(inventories[settings.FEEDS_REQUIRED[0]].nights):
        if night <= since:
            continue
        files = [inventories[feed].nights.get(night, []) for feed in settings.FEEDS_REQUIRED]
        if not all(len(found) == 1 for found in files):
            continue  # a feed missing, or two formats for one night (the run rejects that)
        paths = [found[0] for found in files]
        reasons = []
        for feed, path in zip(settings.FEEDS_REQUIRED, paths, strict=True):
            control = inventories[feed].controls.get(path)
            if control is None and required_controls:
                reasons.append(f"waiting for control file {path.name}.ok")
            elif control is None:
                reasons.append(file_unsettled(path, settings.landing_settle_seconds(), wait=False))
        reasons = [r for r in reasons if r]
        if reasons:
            if waiting is not None:
                waiting.append(f"{night}: {'; '.join(reasons)}")
            continue
        stamp = "-".join(f"{p.stat().st_size}.{p.stat().st_mtime_ns}" for p in paths)
        ready.append((night, stamp))
    return ready


@dg.sensor(job=nightly_job, minimum_interval_seconds=60, name="landing_sensor",
           default_status=dg.DefaultSensorStatus.RUNNING)
def landing_sensor(context: dg.SensorEvaluationContext):
    """One run per night once account_snapshots and customers have both landed.

    Looks back a few days only (OVERDUE_SENSOR_LOOKBACK_DAYS), so history is loaded by a backfill,
    not by hundreds of sensor runs; nights already materialized are skipped.
    """
    landing = settings.landing_dir()
    since = date.today() - timedelta(days=settings.sensor_lookback_days())
    # Done once every required feed is loaded: a run that failed on a missing feed (the 02:00
    # schedule) has loaded the others, and the night must still start when the late file lands.
    done = set.intersection(*(set(context.instance.get_materialized_partitions(dg.AssetKey(feed)))
                              for feed in settings.FEEDS_REQUIRED))
    partitions = set(nightly_partitions().get_partition_keys())
    requests = []
    waiting: list[str] = []
    for night, stamp in nights_ready(landing, since, waiting):
        key = night.isoformat()
        if key in done or key not in partitions:
            continue
        requests.append(dg.RunRequest(run_key=f"{key}:{stamp}", partition_key=key))
    if waiting:
        context.log.info("not started yet: " + "; ".join(waiting[:10]))
    if not requests:
        return dg.SkipReason("no new night with every required feed landed and settled"
                             + (f" (waiting: {'; '.join(waiting[:5])})" if waiting else ""))
    return requests


FINISHED = ("SUCCESS", "FAILURE", "CANCELED")
# held by `overdue run` of a split book for as long as it runs (pipelines/cli.py)
SPLIT_RUN_LOCK = ".split-run.lock"


def split_command_running(home: Path) -> bool:
    """Whether an `overdue run` of the split book holds the instance's lock: it queues the
    night's phases itself, so the sensor must not queue them beside it (the command's own daemon
    evaluates the sensor too)."""
    path = home / SPLIT_RUN_LOCK
    if not path.exists():
        return False
    with open(path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


def night_runs(instance: dg.DagsterInstance, night: str) -> list[dg.DagsterRun]:
    """The runs of one night of a split book (both jobs), newest first."""
    records = [*instance.get_run_records(dg.RunsFilter(
                   job_name="nightly_shard", tags={"dagster/partition/night": night})),
               *instance.get_run_records(dg.RunsFilter(
                   job_name="nightly", tags={"dagster/partition": night}))]
    return [record.dagster_run for record in
            sorted(records, key=lambda record: record.create_timestamp, reverse=True)]


def next_phase(instance: dg.DagsterInstance, asset_graph, night: date, stamp: str,
               ) -> tuple[str, list[dg.RunRequest] | str]:
    """Where a split book's night stands: ("done", ""), ("waiting", why), ("failed", why) or
    ("start", the run requests of its first phase not yet succeeded). A phase counts as done when
    the latest run of each of its partitions with exactly its assets succeeded (the runs
    `overdue run` makes are the same ones)."""
    from pipelines.defs.partitions import (
        PER_SHARD_ASSETS,
        SHARD_DIMENSION,
        night_phases,
        phase_runs,
    )

    key = night.isoformat()
    runs = night_runs(instance, key)
    running = [run for run in runs if run.status.value not in FINISHED]
    if running:
        return "waiting", f"{key}: run {running[0].run_id} is {running[0].status.value.lower()}"
    for number, (shard_steps, keys) in enumerate(night_phases(asset_graph, set(PER_SHARD_ASSETS))):
        job_name, partitions = phase_runs(night, shard_steps)
        selection = frozenset(keys)
        missing = []
        for partition in partitions:
            tag = ({f"dagster/partition/{SHARD_DIMENSION}":
                    partition.keys_by_dimension[SHARD_DIMENSION]} if shard_steps else {})
            latest = next((run for run in runs if run.job_name == job_name
                           and run.asset_selection == selection
                           and all(run.tags.get(k) == v for k, v in tag.items())), None)
            if latest is None:
                missing.append(partition)
            elif latest.status.value != "SUCCESS":
                ended = "failed" if latest.status.value == "FAILURE" else "was canceled"
                return "failed", (f"{key}: phase {number + 1} ({job_name} {partition}) {ended} "
                                  f"in run {latest.run_id}: rerun it from the UI or with "
                                  f"`overdue run --date {key}`")
        if missing:
            return "start", [dg.RunRequest(
                run_key=f"{key}:{stamp}:phase{number + 1}:{partition}", job_name=job_name,
                partition_key=partition, asset_selection=list(keys)) for partition in missing]
    return "done", ""


def split_night_sensor(jobs: list) -> dg.SensorDefinition:
    """A split book's landing sensor: it starts a night once its required feeds have landed and
    settled, then each phase of it (shards, night, shards, night) once the one before has
    succeeded, as `overdue run` does; one night at a time, oldest first, and a failed phase stops
    the nights after it until it is rerun."""

    @dg.sensor(jobs=jobs, minimum_interval_seconds=30, name="split_night_sensor",
               default_status=dg.DefaultSensorStatus.RUNNING)
    def sensor(context: dg.SensorEvaluationContext):
        home = Path(os.environ.get("DAGSTER_HOME", str(settings.dagster_home())))
        if split_command_running(home):
            return dg.SkipReason("an `overdue run` of the book is running: it starts the phases")
        since = date.today() - timedelta(days=settings.sensor_lookback_days())
        partitions = set(nightly_partitions().get_partition_keys())
        waiting: list[str] = []
        graph = context.repository_def.asset_graph
        for night, stamp in nights_ready(settings.landing_dir(), since, waiting):
            if night.isoformat() not in partitions:
                continue
            state, detail = next_phase(context.instance, graph, night, stamp)
            if state == "done":
                continue
            if state == "start":
                return detail
            return dg.SkipReason(detail)
        return dg.SkipReason("every landed night is done"
                             + (f" (waiting: {'; '.join(waiting[:5])})" if waiting else ""))

    return sensor
