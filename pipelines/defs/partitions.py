"""One partition per night, in the lender's time zone, from the first landed night."""

from datetime import date, timedelta

import dagster as dg

from pipelines import settings

# DuckDB allows one writer per file: every asset that writes the warehouse runs in this pool.
# The pool is the one piece of asset policy Dagster takes only where an asset is defined, so each
# asset names it; the rest of the policy is applied once, in `pipelines/definitions.py`.
WAREHOUSE_POOL = "warehouse"

# The run tags of a single run over a range of partitions: Dagster documents them but exports no
# public constant for them.
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


def nightly_partitions() -> dg.DailyPartitionsDefinition:
    """Nights from the first landed account_snapshots file (or `OVERDUE_START_DATE`), read when the
    code location loads."""
    return dg.DailyPartitionsDefinition(start_date=settings.first_partition_date(),
                                        timezone=settings.timezone())


def partition_nights(context: dg.AssetExecutionContext) -> list[date]:
    """The nights of a run: one, or every night of a backfill's range (a single run)."""
    window = context.partition_time_window
    first = window.start.date()
    return [first + timedelta(days=i) for i in range((window.end.date() - first).days)]
