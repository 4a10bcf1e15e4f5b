"""A required feed missing at 02:00: the sensor waits, the scheduled run fails naming the feed,
and the night completes once the file lands (the sensor starts it then).

tests/test_automation.py proves the sensor waits and the schedule picks the night; this follows
one night through all three, with the runs really executed on one Dagster instance.
"""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb

from pipelines import settings
from tests.conftest import snapshot_row, write_night


def execute(request: dg.RunRequest, instance: dg.DagsterInstance):
    from pipelines.definitions import defs

    job = defs().resolve_job_def("nightly")
    return job.execute_in_process(instance=instance, partition_key=request.partition_key,
                                  tags=request.tags, raise_on_error=False)


def failure_descriptions(result) -> list[str]:
    return [event.step_failure_data.user_failure_data.description for event in result.all_events
            if event.is_step_failure and event.step_failure_data.user_failure_data]


def test_a_late_required_feed_fails_the_02_00_run_and_the_sensor_completes_the_night(home):
    from pipelines.definitions import defs

    nightly_schedule = defs().get_repository_def().get_schedule_def("nightly_schedule")
    from pipelines.defs.sensors import landing_sensor

    zone = ZoneInfo(nightly_schedule.execution_timezone)
    today = datetime.now(zone).date()
    tick = datetime.combine(today, time(2, 0), tzinfo=zone)
    with dg.DagsterInstance.ephemeral() as instance:
        (scheduled,) = nightly_schedule.evaluate_tick(dg.build_schedule_context(
            instance=instance, scheduled_execution_time=tick)).run_requests
        night = datetime.fromisoformat(scheduled.partition_key).date()
        write_night(home, night, [snapshot_row(night, number=i, days_past_due="40",
                                               past_due_amount="300.00") for i in (1, 2)])
        customers = home / "landing" / "customers" / f"{night}.csv"
        late = customers.read_bytes()
        customers.unlink()

        assert isinstance(landing_sensor(dg.build_sensor_context(instance=instance)),
                          dg.SkipReason)
        failed = execute(scheduled, instance)
        assert not failed.success
        assert f"required feed customers has no file for {night}" in "\n".join(
            failure_descriptions(failed))
        assert isinstance(landing_sensor(dg.build_sensor_context(instance=instance)),
                          dg.SkipReason)  # still waiting: the failed run is not a done night

        customers.write_bytes(late)
        (request,) = landing_sensor(dg.build_sensor_context(instance=instance))
        assert request.partition_key == night.isoformat()
        assert execute(request, instance).success
        assert isinstance(landing_sensor(dg.build_sensor_context(instance=instance)),
                          dg.SkipReason)  # done: not started again

    with duckdb.connect(str(settings.warehouse_path()), read_only=True) as conn:
        assert conn.execute("select count(*) from customers_history").fetchone() == (2,)
        assert conn.execute("select count(*) from collection_tiers where snapshot_date = ?",
                            [night]).fetchone() == (2,)
