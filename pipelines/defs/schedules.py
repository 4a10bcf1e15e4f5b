"""02:00 in the lender's time zone: run the night that just ended."""

import dagster as dg

from pipelines.defs.jobs import nightly_job

nightly_schedule = dg.build_schedule_from_partitioned_job(
    nightly_job, hour_of_day=2, name="nightly_schedule",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Runs yesterday's night at 02:00 (partition time zone); fails naming any missing "
    "required feed.",
)
