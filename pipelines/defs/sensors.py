"""Start a night as soon as every required feed for it has landed."""

from datetime import date, timedelta

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
