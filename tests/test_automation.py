"""The sensor starts a night once every required feed has landed; the schedule runs yesterday."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from tests.conftest import snapshot_row, write_night


def test_sensor_waits_for_every_required_feed(home):
    from pipelines.defs.sensors import landing_sensor

    night = date.today() - timedelta(days=1)
    write_night(home, night, [snapshot_row(night)])
    customers = home / "landing" / "customers" / f"{night}.csv"
    held = customers.read_bytes()
    customers.unlink()
    with dg.DagsterInstance.ephemeral() as instance:
        waiting = landing_sensor(dg.build_sensor_context(instance=instance))
        assert isinstance(waiting, dg.SkipReason)
        customers.write_bytes(held)
        requests = landing_sensor(dg.build_sensor_context(instance=instance))
    assert [r.partition_key for r in requests] == [night.isoformat()]
    assert requests[0].run_key.startswith(night.isoformat())


def test_schedule_runs_the_night_that_just_ended():
    from pipelines.definitions import defs

    nightly_schedule = defs().get_repository_def().get_schedule_def("nightly_schedule")
    assert nightly_schedule.cron_schedule == "0 2 * * *"
    assert nightly_schedule.execution_timezone == "Asia/Shanghai"
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(2026, 5, 4, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
        (request,) = nightly_schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-05-03"
