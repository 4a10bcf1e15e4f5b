"""Offers (issue 19): payment plans and settlements, run between tonight's tiers and tonight's
contact plan, so a running plan suppresses the regular treatment (`payment_plan_active`) and an
offer letter planned tonight finds its offer. Metadata carries counts only."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.defs.metadata import nights_on_checks, record_nights, run_range
from pipelines.defs.partitions import WAREHOUSE_POOL, partition_nights
from pipelines.lib.ingest.contracts import feeds

# the outcomes feed is optional: the edge exists once its contract does
_OUTCOMES = ["contact_outcomes"] if "contact_outcomes" in feeds() else []


@dg.asset(
    kinds={"duckdb", "sql"},
    deps=["collection_tiers", "account_snapshots", *_OUTCOMES],
    group_name="collections",
    pool=WAREHOUSE_POOL,
    description="Tables `offers` and `offer_instalments`: payment plans (分期) and settlements "
    "(减免) made to accounts whose treatment carries an offer letter, accepted or declined "
    "through contact_outcomes, expired after valid_until, instalments followed from the "
    "snapshots' payments (a miss after the grace days breaks the plan and the account returns "
    "to its tier). Marks tonight's collection_tiers rows of running plans payment_plan_active. "
    "Columns: sql/collections/offers/create_offers.sql.",
)
@nights_on_checks
def offers(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    from pipelines.lib.collections import offers as offer_rules
    from pipelines.lib.collections.strategy import load_strategy

    nights = partition_nights(context)
    strategy = load_strategy()
    with duckdb.get_connection() as conn:
        counts = offer_rules.run_nights(conn, strategy, nights[0], nights[-1])
    record_nights(context, nights, {night: {f"offers_{k}": v for k, v in c.items()}
                                    for night, c in counts.items()})
    return dg.MaterializeResult(metadata={
        **run_range(nights), **{f"offers_{k}": v for k, v in counts[nights[-1]].items()},
        "strategy_version": strategy.version})


@dg.definitions
def offers_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[offers])
