"""Outside agencies and the legal track (issue 19): placements, the agencies' files, the legal
split of the write-off review, recoveries after write-off.

`agency_placements` runs before `collection_tiers`, so an account placed tonight gets no contact
of the lender's own tonight (suppression placed_with_agency). Metadata carries counts only.
"""

from datetime import timedelta
from typing import TYPE_CHECKING

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines import settings
from pipelines.defs.checks import sql_check_result
from pipelines.defs.metadata import (
    PII_TAG,
    nights_on_checks,
    record_nights,
    rows_by_night,
    run_range,
    table_metadata,
)
from pipelines.defs.partitions import WAREHOUSE_POOL, partition_nights

if TYPE_CHECKING:
    import pandas as pd

_COMMON = {"group_name": "collections", "pool": WAREHOUSE_POOL}


def _md(frame: "pd.DataFrame") -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.to_markdown(index=False) if not frame.empty else "none")


@dg.asset(
    kinds={"duckdb", "sql"},
    deps=["account_features", "account_snapshots", "customers", "contact_events",
          "contact_outcomes_applied"],
    description="Table `agency_placements`: accounts of the strategy's placed buckets with an "
    "outside agency by its shares (a seeded hash of the account: stable), rotated to another "
    "agency after rotation_days, recalled on payment, dispute, complaint, bankruptcy or "
    "deceased (contact_events, contact_outcomes when loaded, payments on the snapshots), "
    "returned when the account leaves the placed buckets. A run replays its nights from the "
    "first. Columns: sql/agencies/create_agency_placements.sql.",
    check_specs=[dg.AssetCheckSpec(
        "agency_placements_consistent", asset="agency_placements", blocking=True,
        description="At most one active placement per account, ends recorded with night and "
        "reason, rotations to another agency, only accounts of the placed buckets.")],
    **_COMMON,
)
@nights_on_checks
def agency_placements(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    from pipelines.lib.collections import agencies
    from pipelines.lib.collections.strategy import load_strategy

    nights = partition_nights(context)
    strategy = load_strategy()
    with duckdb.get_connection() as conn:
        placed = agencies.build_placements(conn, strategy, nights[0], nights[-1])
        counts = agencies.placement_counts(conn, nights[-1])
        table = table_metadata(conn, "agency_placements", "agencies/create_agency_placements")
        record_nights(context, nights, {nights[-1]: {"by_agency": _md(counts)}})
        yield dg.MaterializeResult(metadata={
            **run_range(nights), "placed_in_run": placed,
            "active": int(counts["active"].sum()) if not counts.empty else 0,
            "strategy_version": strategy.version, **table})
        buckets = list(strategy.agencies.buckets) if strategy.agencies else []
        yield sql_check_result(
            conn, "agency_placements_consistent", "assert_agency_placements_consistent",
            {"buckets": buckets}, description="No contradiction in agency_placements.")


@dg.asset(
    kinds={"python", "csv"},
    deps=["agency_placements"],
    tags=PII_TAG,
    description="The night's placement files under $OVERDUE_HOME/out/placements/<night>/"
    "<agency>.csv: placement_id and only the strategy's placement_fields, owner-only, one per "
    "agency with placements that night, and <agency>.recalls.csv of the placements that ended "
    "that night (recalled, rotated, returned) so the agency stops; a rerun rewrites nothing (same bytes). Every night of "
    "a run gets its files (an agency must receive every placement). Nights older than "
    "OVERDUE_LETTER_RETENTION_DAYS lose their files (purged.json lists them).",
    **_COMMON,
)
def agency_placement_files(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    from pipelines.lib.collections import agencies
    from pipelines.lib.collections.strategy import load_strategy

    nights = partition_nights(context)
    strategy = load_strategy()
    out = agencies.placements_out_dir()
    per_night = {}
    with duckdb.get_connection() as conn:
        for night in nights:
            files = agencies.write_placement_files(conn, strategy, night, out)
            per_night[night] = {"dagster/row_count": sum(files.rows.values()),
                                "agency_files": len(files.rows),
                                "recalled_to_agencies": sum(files.recalls.values()),
                                "written": files.written, "unchanged": files.unchanged}
    purged = agencies.purge_placements(
        out, nights[-1] - timedelta(days=settings.letter_retention_days()))
    record_nights(context, nights, per_night)
    return dg.MaterializeResult(metadata={
        **run_range(nights), "purged_nights": len(purged),
        "purged_files": sum(p["files"] for p in purged)})


@dg.asset(
    kinds={"duckdb", "sql"},
    deps=["collection_tiers", "contact_history", "account_snapshots", "customers"],
    description="Table `legal_review`: each account in write-off review (T5) as a litigation, "
    "arbitration or payment-order (支付令) candidate by the strategy's balance thresholds per "
    "jurisdiction and its contactability (a right-party contact, or a postal address with no "
    "letter returned), or why none (below_min_balance, time_barred). Columns: "
    "sql/agencies/legal_review.sql.",
    **_COMMON,
)
@nights_on_checks
def legal_review(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    from pipelines.lib.collections import agencies
    from pipelines.lib.collections.strategy import load_strategy

    nights = partition_nights(context)
    strategy = load_strategy()
    with duckdb.get_connection() as conn:
        agencies.build_legal_review(conn, strategy, nights[0], nights[-1])
        per_night = rows_by_night(conn, "legal_review", nights)
        table = table_metadata(conn, "legal_review", "agencies/legal_review")
    record_nights(context, nights, per_night)
    return dg.MaterializeResult(metadata={**run_range(nights), **table})


@dg.asset(
    kinds={"duckdb", "sql"},
    deps=["account_snapshots", "account_features", "agency_placements"],
    description="Table `post_write_off_recoveries`: payments on written-off accounts after "
    "their write-off, per account, night and currency, with the agency holding the account. "
    "Columns: sql/agencies/post_write_off_recoveries.sql.",
    **_COMMON,
)
@nights_on_checks
def post_write_off_recoveries(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    from pipelines.lib.collections import agencies

    nights = partition_nights(context)
    with duckdb.get_connection() as conn:
        agencies.build_post_write_off_recoveries(conn, nights[0], nights[-1])
        per_night = rows_by_night(conn, "post_write_off_recoveries", nights)
        table = table_metadata(conn, "post_write_off_recoveries",
                               "agencies/post_write_off_recoveries")
    record_nights(context, nights, per_night)
    return dg.MaterializeResult(metadata={**run_range(nights), **table})


@dg.definitions
def agencies_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[agency_placements, agency_placement_files, legal_review,
                                  post_write_off_recoveries])
