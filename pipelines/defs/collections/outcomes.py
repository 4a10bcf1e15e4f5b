"""Contact outcomes applied (issue 19): what the last contacts achieved, before tonight's tiers.

Logic in `pipelines/lib/collections/outcomes.py`; SQL in `sql/collections/`. Metadata carries
counts only.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.defs.metadata import run_range, table_metadata
from pipelines.defs.partitions import WAREHOUSE_POOL, partition_nights


@dg.asset(
    kinds={"duckdb", "sql"},
    deps=["contact_outcomes", "work_list_outcomes", "customers"],
    group_name="collections",
    pool=WAREHOUSE_POOL,
    description="The night's contact outcomes applied: returned work lists (feed "
    "work_list_outcomes) merged into `contact_outcomes` (source work_list); contact_history's "
    "status moves planned -> sent -> attempted -> delivered | failed | answered, never "
    "backwards, with outcome, outcome_at, outcome_id, agent_id, agency_id; failed SMS, bounced "
    "e-mail, returned letters and wrong-party calls mark `bad_destinations` (sha256 only). "
    "SQL: sql/collections/apply_contact_outcomes.sql.",
)
def contact_outcomes_applied(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    from pipelines.lib.collections.outcomes import apply_outcomes

    nights = partition_nights(context)
    with duckdb.get_connection() as conn:
        counts = apply_outcomes(conn, nights[0], nights[-1])
        return dg.MaterializeResult(metadata={
            **run_range(nights),
            "outcomes": dg.MetadataValue.json(counts["outcomes"]),
            "contact_statuses": dg.MetadataValue.json(counts["statuses"]),
            "bad_destinations_marked": dg.MetadataValue.json(counts["bad_destinations"]),
            **table_metadata(conn, "bad_destinations", "collections/create_bad_destinations"),
        })
