"""Start a night as soon as every required feed for it has landed."""

from datetime import date, timedelta

import dagster as dg

from pipelines import settings
from pipelines.defs.jobs import nightly_job
from pipelines.defs.partitions import nightly_partitions
from pipelines.lib.ingest.landing import find_landing_file, landed_nights


def nights_ready(landing, since: date) -> list[tuple[date, str]]:
    """Nights after `since` whose required feeds have all landed, with a version stamp of the files."""
    ready = []
    for night in landed_nights(landing, settings.FEEDS_REQUIRED[0]):
        if night <= since:
            continue
        files = [find_landing_file(landing, feed, night) for feed in settings.FEEDS_REQUIRED]
        if all(files):
            stamp = "-".join(f"{p.stat().st_size}.{p.stat().st_mtime_ns}" for p in files)
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
    for night, stamp in nights_ready(landing, since):
        key = night.isoformat()
        if key in done or key not in partitions:
            continue
        requests.append(dg.RunRequest(run_key=f"{key}:{stamp}", partition_key=key))
    if not requests:
        return dg.SkipReason("no new night with every required feed landed")
    return requests
