"""One partition per night, in the lender's time zone, from the first landed night."""

import os

import dagster as dg

from pipelines import settings

NIGHTLY_TIMEZONE = os.environ.get("OVERDUE_TIMEZONE", "Asia/Shanghai")

nightly_partitions = dg.DailyPartitionsDefinition(
    start_date=settings.first_partition_date(), timezone=NIGHTLY_TIMEZONE
)

# DuckDB allows one writer per file: every asset that writes the warehouse runs in this pool.
WAREHOUSE_POOL = "warehouse"
