"""Asset `promises`: the promise ledger (pipelines/lib/collections/promises.py).

It reads contact_history (an outcome's account) and the night's collection tiers, so it runs after
them; collection_tiers never reads it (its promise suppression follows the feeds itself), so
there is no cycle. Metadata carries counts and amounts per currency only.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.defs.checks import sql_check_result
from pipelines.defs.metadata import nights_on_checks, record_nights, run_range, table_metadata
from pipelines.defs.partitions import WAREHOUSE_POOL, partition_nights
from pipelines.lib.sql import sql_path


@dg.asset(
    kinds={"duckdb", "sql"},
    deps=["contact_history", "collection_tiers", "account_snapshots", "contact_events",
          "contact_outcomes_applied"],
    description="Table `promises`: the promise ledger, one row per promise to pay (contact_events "
    "and contact_outcomes), open, kept, broken, superseded or unverifiable as of the run's last "
    "night (or the later night it already stood at) from the snapshots' payments (kept: paid "
    "at least the promised amount by its date + OVERDUE_PROMISE_GRACE_DAYS). Columns: "
    "sql/collections/promises.sql.",
    check_specs=[dg.AssetCheckSpec(
        "promises_ledger_consistent", asset="promises", blocking=True,
        description="One row per promise; a decided promise has its night; kept ones are paid "
        "in full, broken ones are not.")],
    group_name="collections",
    pool=WAREHOUSE_POOL,
)
@nights_on_checks
def promises(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    from pipelines.lib.collections import promises as ledger

    nights = partition_nights(context)
    with duckdb.get_connection() as conn:
        as_of = ledger.as_of_night(conn, nights[-1])
        total = ledger.build_promises(conn, as_of)
        per_night = {}
        for night in nights:
            mix = ledger.by_status(conn, night)
            counts = {f"promises_{s}": int(mix.loc[mix.status == s, "promises"].sum())
                      for s in ledger.STATUSES}
            per_night[night] = {"dagster/row_count": int(mix.promises.sum()), **counts}
            if night == nights[-1]:
                per_night[night]["by_status"] = dg.MetadataValue.md(
                    mix.to_markdown(index=False) if not mix.empty else "none")
        record_nights(context, nights, per_night)
        yield dg.MaterializeResult(metadata={
            **run_range(nights),
            "table_rows": total,
            "as_of_night": as_of.isoformat(),
            "sql": sql_path("collections/promises"),
            **table_metadata(conn, "promises", "collections/promises"),
        })
        yield sql_check_result(conn, "promises_ledger_consistent",
                               "assert_promises_ledger_consistent", {},
                               description="The promise ledger is consistent.")


@dg.definitions
def promises_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[promises])
