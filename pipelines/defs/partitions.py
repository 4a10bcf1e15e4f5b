"""One partition per night, in the lender's time zone, from the first landed night; on a book
split into customer shards (`OVERDUE_SHARDS` > 1), the per-account steps have one partition per
night and shard."""

from datetime import date, timedelta

import dagster as dg

from pipelines import settings
from pipelines.lib.shards import shard_labels

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


NIGHT_DIMENSION = "night"
SHARD_DIMENSION = "shard"

# The steps that run once per customer shard on a split book: everything they compute for a
# customer reads only that customer's rows (or reference data every shard loads whole). The
# other steps rank, cap or add up across customers and run once per night over every shard's
# published tables (pipelines/lib/exchange.py).
PER_SHARD_ASSETS = frozenset({
    "account_snapshots", "customers", "bureau_scores", "contact_events", "fx_rates",
    "macro_indicators", "account_features", "account_scores", "account_reason_codes",
})


def night_and_shard_partitions() -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition({
        NIGHT_DIMENSION: nightly_partitions(),
        SHARD_DIMENSION: dg.StaticPartitionsDefinition(shard_labels(settings.shard_count())),
    })


def night_and_shard(night: date, label: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({NIGHT_DIMENSION: night.isoformat(), SHARD_DIMENSION: label})


def night_phases(asset_graph, per_shard: set[str]) -> list[tuple[bool, list]]:
    """A split book's night in the order its partitionings allow: alternately the per-shard
    steps whose inputs are ready and the night-level steps whose inputs are ready, each step in
    the first phase after every one of its inputs. [(per shard?, asset keys)]."""
    phase: dict = {}
    for key in asset_graph.toposorted_asset_keys:
        node = asset_graph.get(key)
        if not node.is_executable:
            continue
        shard_step = key.to_user_string() in per_shard
        earliest = max((phase[p] for p in node.parent_keys if p in phase), default=0)
        phase[key] = earliest if (earliest % 2 == 0) == shard_step else earliest + 1
    return [(number % 2 == 0, [k for k, p in phase.items() if p == number])
            for number in range(max(phase.values()) + 1)
            if any(p == number for p in phase.values())]


def phase_runs(night: date, shard_steps: bool) -> tuple[str, list]:
    """(job, partitions) of one phase of a split book's night: `nightly_shard` once per shard, or
    `nightly` once for the night."""
    from pipelines.lib.shards import configured_shards

    if shard_steps:
        return "nightly_shard", [night_and_shard(night, shard.label) for shard in configured_shards()]
    return "nightly", [night.isoformat()]
