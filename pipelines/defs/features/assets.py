"""Feature and portfolio tables, rebuilt in SQL for each night (or range of nights, set-wise).

Each asset replaces its nights in one transaction and runs its `sql/checks/assert_*.sql` checks
in the same run; a check passes when its query returns no rows.
"""

from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.defs.checks import sql_check_result
from pipelines.defs.metadata import (
    nights_on_checks,
    preview_table,
    record_nights,
    rows_by_night,
    run_range,
    table_metadata,
)
from pipelines.defs.partitions import WAREHOUSE_POOL, partition_nights
from pipelines.lib.sql import render_sql, sql_path


@dataclass(frozen=True)
class NightlyTable:
    name: str
    description: str
    deps: tuple[str, ...]
    checks: tuple[tuple[str, str], ...] = ()  # (check file, description)
    before: tuple[str, ...] = ()
    chunk_days: int | None = None
    # (conn, start, end) -> rows: how the nights are built when not by rebuild_nights
    rebuild: Callable | None = None


def _features_from_state(conn, start, end) -> int:
    """account_features through the carried state; imported when the asset runs, not at load."""
    from pipelines.lib.features.feature_state import rebuild_features

    return rebuild_features(conn, start, end)


TABLES = (
    NightlyTable(
        "account_features",
        "One row per account present that night: bucket, utilisation, payment ratio, "
        "delinquency history over 30/90/180 days, roll state since one month earlier, "
        "behaviour events and the optional macro and bureau joins. Definitions: the header of "
        "sql/features/account_features.sql (data dictionary). Built night by night from "
        "the carried account_feature_state (sql/features/carry_account_feature_state.sql), "
        "rebuilt from history when the previous night's state is missing or stale.",
        ("account_snapshots", "contact_events", "macro_indicators", "bureau_scores"),
        (("assert_features_match_accounts_present",
          "Exactly one feature row per account present that night, none for absent accounts."),
         ("assert_bucket_consistent_with_dpd",
          "Every bucket is the DOMAIN §1 bucket of its days past due and status.")),
        rebuild=_features_from_state,
    ),
    NightlyTable(
        "roll_rates",
        "Roll-rate matrix per night, product and currency: bucket one month earlier x bucket "
        "tonight, accounts, balance and row shares; new and gone accounts in their own row and "
        "column; `currency = all` balances converted at tonight's rate, or null without one.",
        ("account_snapshots", "fx_rates"),
        (("assert_roll_rate_rows_sum_to_one", "Every matrix row's shares sum to 1."),
         ("assert_roll_rate_totals_reconcile",
          "Row totals equal the earlier night's book, column totals tonight's.")),
    ),
    NightlyTable(
        "flow_rates",
        "Balance flow rates bucket b -> b+1 per night and product, and the chained flow to "
        "write-off.",
        ("roll_rates",),
    ),
    NightlyTable(
        "portfolio_daily",
        "The book per night, product and currency: accounts, balance, 30+/60+/90+ rates by "
        "count and balance (written-off stock excluded), NPL, write-offs, five-class mix; "
        "`currency = all` amounts converted to the reporting currency, or null without a rate.",
        ("account_snapshots", "fx_rates"),
        (("assert_portfolio_products_add_up",
          ("Products and currencies add up to `all`, `all` equals the night's snapshot count, "
           "and book amounts exist exactly when every currency has a rate.")),),
    ),
    NightlyTable(
        "vintage_curves",
        "Vintage curves as of each night: open month x months on book -> accounts, share ever "
        "30+ and 90+. Reads the running account_milestones state, not the full history.",
        ("account_snapshots",),
        before=("features/create_account_milestones", "features/update_account_milestones"),
    ),
)


def build_nightly_table_asset(spec: NightlyTable) -> dg.AssetsDefinition:
    @dg.asset(
        name=spec.name,
        group_name="features",
        kinds={"duckdb", "sql"},
        deps=list(spec.deps),
        pool=WAREHOUSE_POOL,
        description=spec.description,
        check_specs=[dg.AssetCheckSpec(name, asset=spec.name, blocking=True, description=text)
                     for name, text in spec.checks],
    )
    @nights_on_checks
    def nightly_table(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        from pipelines.lib.exchange import PUBLISHED_TABLES, publish
        from pipelines.lib.features.nightly_tables import preview, rebuild_nights

        nights = partition_nights(context)
        start, end = nights[0], nights[-1]
        with duckdb.get_connection() as conn:
            rows = (spec.rebuild(conn, start, end) if spec.rebuild else
                    rebuild_nights(conn, spec.name, f"features/{spec.name}", start, end,
                                   before=spec.before, chunk_days=spec.chunk_days))
            if spec.name in PUBLISHED_TABLES:
                publish(conn, duckdb.shard, spec.name, nights)
            sample = preview(conn, spec.name, end)
            per_night = rows_by_night(conn, spec.name, nights)
            per_night[end]["preview"] = (preview_table(sample) if not sample.empty
                                         else f"no rows for {end}")
            record_nights(context, nights, per_night)
            yield dg.MaterializeResult(metadata={
                **run_range(nights),
                **({"run_rows": rows} if len(nights) > 1 else {}),
                "sql": sql_path(f"features/{spec.name}"),
                **table_metadata(conn, spec.name, f"features/{spec.name}"),
            })
            for name, _ in spec.checks:
                yield sql_check_result(conn, name, name, {"start_date": start, "end_date": end})

    return nightly_table


DICTIONARY_COLUMNS = {"table_name": "the feature table", "column_name": "its column",
                      "definition": "the column's definition, from the SQL header"}


@dg.asset(
    group_name="features",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    description="Table `data_dictionary`: one definition per column of every feature table, "
    "read from the header comment of the SQL that builds it (so they cannot drift apart).",
)
def data_dictionary(duckdb: DuckDBResource) -> dg.MaterializeResult:
    from pipelines.lib.features.data_dictionary import data_dictionary as build_data_dictionary

    entries = build_data_dictionary([spec.name for spec in TABLES])
    with duckdb.get_connection() as conn:
        conn.register("dictionary_rows", entries)
        conn.execute(render_sql("features/replace_data_dictionary"))
        conn.unregister("dictionary_rows")
        schema = table_metadata(conn, "data_dictionary", definitions=DICTIONARY_COLUMNS)
    frame = entries.to_pandas()
    return dg.MaterializeResult(metadata={
        **schema,
        "dagster/row_count": len(frame),
        "dictionary": dg.MetadataValue.md(frame.to_markdown(index=False)),
    })


@dg.definitions
def feature_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[build_nightly_table_asset(spec) for spec in TABLES]
                          + [data_dictionary])
