"""Tiers and contact plans, set-wise in DuckDB: the strategy goes in as small registered tables.

`build_tiers` decides every open account's tier for a range of nights in one statement;
`plan_night` turns one night's tiers into contacts (per night, because cadence depends on what
the previous nights planned). Plain Python over a connection; no Dagster here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from pipelines.lib.collections.rendering import template_versions
from pipelines.lib.collections.strategy import Strategy
from pipelines.lib.ingest.row_checks import bind
from pipelines.lib.sql import render_sql

TABLES = ("collection_tiers", "contact_history", "credit_line_actions", "cure_rates")


def ensure_tables(conn: duckdb.DuckDBPyConnection) -> None:
    for table in TABLES:
        conn.execute(render_sql(f"collections/create_{table}"))


def table_exists(conn: duckdb.DuckDBPyConnection, name: str) -> bool:
    sql = render_sql("collections/table_exists")
    return bool(conn.execute(sql, {"table_name": name}).fetchone()[0])


def register_strategy(conn: duckdb.DuckDBPyConnection, strategy: Strategy,
                      versions: dict | None = None) -> None:
    """The strategy's rules as the tables the collections SQL joins (connection-local views)."""
    conn.register("tier_rules", strategy.tier_rules_table())
    conn.register("suppression_rules", strategy.suppression_table())
    conn.register("jurisdiction_rules", strategy.jurisdictions_table())
    conn.register("treatment_contacts",
                  strategy.contacts_table(versions if versions is not None
                                          else template_versions()))


def _run(conn, name: str, params: dict, **context):
    """Run `sql/collections/<name>.sql`, or `sql/<name>.sql` for a name with its folder."""
    sql = render_sql(name if "/" in name else f"collections/{name}", **context)
    return conn.execute(sql, bind(sql, params))


def build_tiers(conn: duckdb.DuckDBPyConnection, strategy: Strategy, start: date,
                end: date) -> int:
    """Replace nights start..end of collection_tiers; returns the rows written."""
    ensure_tables(conn)
    register_strategy(conn, strategy)
    params = {"start_date": start, "end_date": end, "strategy_version": strategy.version,
              "high_risk_grades": list(strategy.high_risk_grades)}
    query = render_sql("collections/collection_tiers", single_night=start == end,
                       has_scores=table_exists(conn, "account_scores"))
    conn.execute("begin transaction")
    try:
        _run(conn, "features/delete_nights", params, table="collection_tiers")
        _run(conn, "insert_collection_tiers", params, query=query)
        rows = _run(conn, "features/count_nights", params, table="collection_tiers").fetchone()[0]
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    return rows


@dataclass(frozen=True)
class NightPlan:
    night: date
    candidates: int
    planned: int
    new_contacts: int
    suppressed: dict[str, int]


def merge_contact_events(conn: duckdb.DuckDBPyConnection, start: date, end: date) -> int:
    ensure_tables(conn)
    before = conn.execute("select count(*) from contact_history").fetchone()[0]
    _run(conn, "merge_contact_events", {"start_date": start, "end_date": end})
    return conn.execute("select count(*) from contact_history").fetchone()[0] - before


def plan_night(conn: duckdb.DuckDBPyConnection, strategy: Strategy, night: date,
               versions: dict | None = None) -> NightPlan:
    """Plan `night`'s contacts into contact_history (new idempotency keys only)."""
    ensure_tables(conn)
    register_strategy(conn, strategy, versions)
    params = {"night": night, "strategy_version": strategy.version}
    conn.execute("begin transaction")
    try:
        plan = render_sql("collections/plan_contacts")
        conn.execute("create or replace temp table tonight_candidates as " + plan,
                     bind(plan, params))
        before = conn.execute("select count(*) from contact_history").fetchone()[0]
        _run(conn, "insert_planned_contacts", params)
        after = conn.execute("select count(*) from contact_history").fetchone()[0]
        _run(conn, "cancel_stale_contacts", params)
        _run(conn, "zero_tier_contacts", params)
        _run(conn, "update_tier_contacts", params)
        summary = conn.execute(render_sql("collections/summarise_candidates")).fetchall()
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    suppressed = {reason: n for reason, n in summary if reason is not None}
    candidates = sum(n for _, n in summary)
    return NightPlan(night, candidates, candidates - sum(suppressed.values()), after - before,
                     suppressed)


def plan_nights(conn: duckdb.DuckDBPyConnection, strategy: Strategy, start: date,
                end: date) -> list[NightPlan]:
    """Merge the feed's calls, then plan each night in order (cadence reads earlier nights)."""
    merge_contact_events(conn, start, end)
    versions = template_versions()
    plans = []
    night = start
    while night <= end:
        plans.append(plan_night(conn, strategy, night, versions))
        night += timedelta(days=1)
    return plans


def replace_nights(conn: duckdb.DuckDBPyConnection, table: str, query_name: str, start: date,
                   end: date, params: dict | None = None, **context) -> int:
    """Replace nights start..end of `table` with `sql/collections/<query_name>.sql`."""
    ensure_tables(conn)
    params = {"start_date": start, "end_date": end, **(params or {})}
    query = render_sql(f"collections/{query_name}", **context)
    conn.execute("begin transaction")
    try:
        _run(conn, "features/delete_nights", params, table=table)
        _run(conn, "insert_by_name", params, table=table, query=query)
        rows = _run(conn, "features/count_nights", params, table=table).fetchone()[0]
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    return rows


def build_credit_line_actions(conn: duckdb.DuckDBPyConnection, strategy: Strategy, start: date,
                              end: date) -> int:
    credit = strategy.credit_line
    return replace_nights(
        conn, "credit_line_actions", "credit_line_actions", start, end,
        {"buckets": list(credit["buckets"]), "min_utilisation": float(credit["min_utilisation"]),
         "reduce_by": float(credit["reduce_by"]), "strategy_version": strategy.version},
        has_reasons=table_exists(conn, "account_reason_codes"))


def build_cure_rates(conn: duckdb.DuckDBPyConnection, start: date, end: date) -> int:
    return replace_nights(conn, "cure_rates", "cure_rates", start, end)
