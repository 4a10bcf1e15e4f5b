"""Strategy experiments: table `experiment_results` (champion/challenger lift per arm).

Arms are assigned and applied while tiering and planning (pipelines/lib/collections/
experiments.py); this asset measures them. Metadata carries counts and rates only.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.defs.checks import sql_check_result
from pipelines.defs.metadata import (
    nights_on_checks,
    record_nights,
    rows_by_night,
    run_range,
    table_metadata,
)
from pipelines.defs.partitions import WAREHOUSE_POOL, partition_nights
from pipelines.lib.warehouse import query

ARMS_CHECK = ("Every tier row of an experiment's nights carries its customer's first assigned "
              "arm, and every planned contact its tier row's experiment and arm.")


@dg.asset(
    name="experiment_results",
    kinds={"duckdb", "python"},
    deps=["collection_tiers", "contact_history", "account_snapshots", "contact_events",
          "letter_batches"],
    description="Table `experiment_results`: per strategy experiment (pipelines/config/"
    "experiments/) and arm, the accounts entering treatment and their cure, roll-forward, "
    "amount collected (per currency), contacts per cure and complaints per 1,000 within 30 "
    "days; each challenger or holdout arm minus the champion with its 95% interval, the minimum "
    "detectable effect and a verdict (significant / no significant difference / too early). "
    "Columns: sql/experiments/create_experiment_results.sql.",
    check_specs=[dg.AssetCheckSpec(
        "experiment_arms_consistent", asset="experiment_results", blocking=False,
        description=ARMS_CHECK)],
    group_name="collections",
    pool=WAREHOUSE_POOL,
)
@nights_on_checks
def experiment_results_table(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    from pipelines.lib.collections import experiment_results
    from pipelines.lib.collections.strategy import load_strategy

    nights = partition_nights(context)
    strategy = load_strategy()
    with duckdb.get_connection() as conn:
        rows = experiment_results.build(conn, strategy, nights[0], nights[-1])
        per_night = rows_by_night(conn, "experiment_results", nights)
        verdicts = query(conn, "experiments/primary_verdicts", {"night": nights[-1]})
        per_night[nights[-1]] |= {
            f"{r.experiment_id}.{r.arm}": f"{r.metric} {r.verdict}"
            for r in verdicts.itertuples()}
        record_nights(context, nights, per_night)
        yield dg.MaterializeResult(metadata={
            **run_range(nights), **({"run_rows": rows} if len(nights) > 1 else {}),
            **table_metadata(conn, "experiment_results", "experiments/create_experiment_results"),
        })
        yield sql_check_result(conn, "experiment_arms_consistent",
                               "assert_experiment_arms_consistent",
                               {"start_date": nights[0], "end_date": nights[-1]},
                               description=ARMS_CHECK)


@dg.definitions
def experiments_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[experiment_results_table])
