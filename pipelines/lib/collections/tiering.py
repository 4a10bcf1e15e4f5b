"""Tiers and contact plans, set-wise in DuckDB: the strategy goes in as small registered tables.

`build_tiers` decides every open account's tier for a range of nights in one statement;
`plan_night` turns one night's tiers into contacts (per night, because cadence depends on what
the previous nights planned). Plain Python over a connection; no Dagster here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from pipelines import settings
from pipelines.lib.collections import experiments
from pipelines.lib.collections.rendering import template_versions
from pipelines.lib.collections.strategy import Strategy
from pipelines.lib.features.nightly_tables import add_new_columns
from pipelines.lib.sql import bind, render_sql
from pipelines.lib.warehouse import replace_nights, run_sql, table_exists, transaction

TABLES = ("collection_tiers", "contact_history", "credit_line_actions", "cure_rates",
          "bad_destinations")


# Columns contact_history gained after its first release (issue 17: queues), as in its create
# statement: a warehouse from before gains them, null on the rows it already holds.
CONTACT_HISTORY_ADDED = (("queue_rank", "integer"), ("queue_capacity", "integer"),
                         ("expected_value", "double"),
                         # issue 18: released letters immutable, corrections referenced
                         ("batch_folder", "varchar"), ("corrects_letter_id", "varchar"),
                         ("superseded_by", "varchar"), ("correction_note", "varchar"),
                         # issue 19: what the contact_outcomes feed said became of the contact
                         ("outcome", "varchar"), ("outcome_at", "timestamptz"),
                         ("outcome_id", "varchar"), ("agent_id", "varchar"),
                         ("agency_id", "varchar"))


def ensure_tables(conn: duckdb.DuckDBPyConnection) -> None:
    for table in TABLES:
        conn.execute(render_sql(f"collections/create_{table}"))
    present = {row[0] for row in
               run_sql(conn, "shared/table_columns", {"table_name": "contact_history"}).fetchall()}
    for column, column_type in CONTACT_HISTORY_ADDED:
        if column not in present:
            run_sql(conn, "shared/add_column", table="contact_history", column=column,
                    column_type=column_type)
    experiments.ensure_tables(conn)


def register_strategy(conn: duckdb.DuckDBPyConnection, strategy: Strategy,
                      versions: dict | None = None, night: date | None = None) -> None:
    """The strategy's rules as the tables the collections SQL joins (connection-local views);
    with `night`, also that night's send and delivery days per jurisdiction and channel."""
    if night is not None:
        conn.register("delivery_dates", strategy.delivery_table(night))
    conn.register("tier_rules", strategy.tier_rules_table())
    conn.register("high_risk_rules", strategy.high_risk_table())
    conn.register("credit_line_rounding", strategy.credit_line_table())
    conn.register("suppression_rules", strategy.suppression_table())
    conn.register("jurisdiction_rules", strategy.jurisdictions_table())
    # with every running experiment arm's contacts beside the champion's (column variant)
    conn.register("treatment_contacts",
                  experiments.contacts_table(strategy, versions if versions is not None
                                             else template_versions()))


def build_tiers(conn: duckdb.DuckDBPyConnection, strategy: Strategy, start: date,
                end: date) -> int:
    """Replace nights start..end of collection_tiers; returns the rows written. A table made by
    an older release gains the newer columns (older nights hold null in them)."""
    ensure_tables(conn)
    register_strategy(conn, strategy)
    params = {"start_date": start, "end_date": end, "strategy_version": strategy.version,
              **settings.tier_settings()}
    query = tier_query(conn, start, end)
    add_new_columns(conn, "collection_tiers", query, params)
    rows = replace_nights(conn, "collection_tiers", start, end, query, params)
    experiments.apply_to_tiers(conn, strategy, start, end,
                               lambda first, last: tier_query(conn, first, last))
    return rows


def tier_query(conn: duckdb.DuckDBPyConnection, start: date, end: date) -> str:
    """collection_tiers.sql for nights start..end and the tables this warehouse holds: the
    champion and every experiment arm tier with the same statement."""
    return render_sql("collections/collection_tiers", single_night=start == end,
                      has_scores=table_exists(conn, "account_scores"),
                      has_placements=table_exists(conn, "agency_placements"),
                      has_outcomes=table_exists(conn, "contact_outcomes"))


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
    run_sql(conn, "collections/merge_contact_events", {"start_date": start, "end_date": end})
    return conn.execute("select count(*) from contact_history").fetchone()[0] - before


def plan_night(conn: duckdb.DuckDBPyConnection, strategy: Strategy, night: date,
               versions: dict | None = None) -> NightPlan:
    """Plan `night`'s contacts into contact_history (new idempotency keys only)."""
    ensure_tables(conn)
    register_strategy(conn, strategy, versions)
    params = {"night": night, "strategy_version": strategy.version}
    with transaction(conn):
        plan = render_sql("collections/plan_contacts",
                          has_outcomes=table_exists(conn, "contact_outcomes"))
        conn.execute("create or replace temp table tonight_candidates as " + plan,
                     bind(plan, params))
        before = conn.execute("select count(*) from contact_history").fetchone()[0]
        run_sql(conn, "collections/insert_planned_contacts", params)
        after = conn.execute("select count(*) from contact_history").fetchone()[0]
        experiments.tag_contacts(conn, night)
        run_sql(conn, "collections/cancel_stale_contacts", params)
        run_sql(conn, "collections/zero_tier_contacts", params)
        run_sql(conn, "collections/update_tier_contacts", params)
        summary = run_sql(conn, "collections/summarise_candidates").fetchall()
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


def build_credit_line_actions(conn: duckdb.DuckDBPyConnection, strategy: Strategy, start: date,
                              end: date) -> int:
    """Replace nights start..end of credit_line_actions (the strategy's `credit_line` rules over
    collection_tiers); returns the rows written."""
    ensure_tables(conn)
    register_strategy(conn, strategy)
    credit, reduce = strategy.credit_line, strategy.credit_line["reduce"]
    query = render_sql("collections/credit_line_actions",
                       has_reasons=table_exists(conn, "account_reason_codes"))
    params = {"start_date": start, "end_date": end,
              "freeze_buckets": list(credit["freeze_buckets"]),
              "freeze_high_risk_buckets": list(credit["freeze_high_risk_buckets"]),
              "over_limit": credit["over_limit"], "reduce_buckets": list(reduce["buckets"]),
              "min_utilisation": reduce["min_utilisation"], "headroom": reduce["headroom"],
              "strategy_version": strategy.version}
    add_new_columns(conn, "credit_line_actions", query, params)
    return replace_nights(conn, "credit_line_actions", start, end, query, params)


def build_cure_rates(conn: duckdb.DuckDBPyConnection, start: date, end: date) -> int:
    ensure_tables(conn)
    return replace_nights(conn, "cure_rates", start, end, render_sql("collections/cure_rates"))
