"""Collections: tiers, contact plans, compliant letter batches, credit-line actions, cure rates.

The strategy (`pipelines/config/collection_strategy.yaml`) decides; plain logic lives in
`pipelines/lib/collections/`. A range of nights (a backfill) tiers and plans every night but
renders files only for its last night, so a 180-night backfill stays fast. Metadata carries
counts only: never a name, phone, e-mail or address.
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
from pipelines.lib.sql import sql_path
from pipelines.lib.warehouse import query, table_exists

if TYPE_CHECKING:
    import pandas as pd

GROUP = "collections"


def letters_dir():
    return settings.letters_out_dir()


def _md(frame: "pd.DataFrame") -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.to_markdown(index=False) if not frame.empty else "none")


def _query(conn, name: str, params: dict) -> "pd.DataFrame":
    return query(conn, f"collections/{name}", params)


def _check(conn, name: str, params: dict, description: str) -> dg.AssetCheckResult:
    return sql_check_result(conn, name, f"assert_{name}", params, description=description)


_COMMON = {"group_name": GROUP, "pool": WAREHOUSE_POOL}


@dg.asset(
    kinds={"duckdb", "sql"},
    deps=["account_features", "account_scores", "customers", "contact_events",
          "agency_placements", "contact_outcomes_applied"],
    description="Table `collection_tiers`: every open account's tier (T0-T5, null for current "
    "low-risk accounts), treatment, tier entry and account-wide suppression, by the versioned "
    "strategy. Runs on delinquency buckets alone when the night has no account_scores. "
    "Columns: sql/collections/collection_tiers.sql.",
    check_specs=[dg.AssetCheckSpec(
        "collection_tiers_cover_open_accounts", asset="collection_tiers", blocking=True,
        description="Exactly one tier row per account of the night that is not closed.")],
    **_COMMON,
)
@nights_on_checks
def collection_tiers(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    from pipelines.lib.collections import tiering
    from pipelines.lib.collections.strategy import load_strategy

    nights = partition_nights(context)
    start, end = nights[0], nights[-1]
    strategy = load_strategy()
    with duckdb.get_connection() as conn:
        rows = tiering.build_tiers(conn, strategy, start, end)
        scored = table_exists(conn, "account_scores")
        per_night = rows_by_night(conn, "collection_tiers", nights)
        for night in nights:
            mix = _query(conn, "tier_mix", {"night": night})
            per_night[night] |= {f"tier_{r.tier}": int(r.accounts) for r in mix.itertuples()
                                 if isinstance(r.tier, str)}
            if night == end:
                per_night[night]["tiers"] = _md(mix)
        record_nights(context, nights, per_night)
        yield dg.MaterializeResult(metadata={
            **run_range(nights),
            **({"run_rows": rows} if len(nights) > 1 else {}),
            "strategy_version": strategy.version,
            "scores_used": scored,
            "sql": sql_path("collections/collection_tiers"),
            **table_metadata(conn, "collection_tiers", "collections/collection_tiers"),
        })
        yield _check(conn, "collection_tiers_cover_open_accounts",
                     {"start_date": start, "end_date": end},
                     "Exactly one tier row per account of the night that is not closed.")


@dg.asset(
    kinds={"duckdb", "sql"},
    deps=["collection_tiers", "contact_events", "offers"],
    description="Table `contact_history`: every planned contact (SMS, e-mail, print letter, "
    "phone and review tasks) with its idempotency key, and the feed's calls merged in. A rerun "
    "of a night plans nothing twice. Cadence reads it; caps are counted from it. Also records "
    "each tier row's contacts planned and channel suppressions.",
    check_specs=[
        dg.AssetCheckSpec(
            "contact_history_keys_unique", asset="contact_history", blocking=True,
            description="Idempotency keys, contact ids and letter references are unique."),
        dg.AssetCheckSpec(
            "queues_within_capacity", asset="contact_history", blocking=True,
            description="No queue holds more tasks a night than its capacity (agents x tasks "
            "per agent); the rest are overflow rows with held_rule queue_full."),
        dg.AssetCheckSpec(
            "early_warnings_acted_on", asset="contact_history", blocking=False,
            description="Every early-warning account got a treatment (the pre-due reminder or "
            "the watch) or a recorded reason it got no contact."),
    ],
    **_COMMON,
)
@nights_on_checks
def contact_history(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    from pipelines.lib.collections import tiering
    from pipelines.lib.collections.strategy import load_strategy

    nights = partition_nights(context)
    strategy = load_strategy()
    with duckdb.get_connection() as conn:
        plans = tiering.plan_nights(conn, strategy, nights[0], nights[-1])
        last = plans[-1]
        suppressed: dict[str, int] = {}
        for plan in plans:
            for reason, n in plan.suppressed.items():
                suppressed[reason] = suppressed.get(reason, 0) + n
        by_channel = _query(conn, "planned_by_channel", {"night": nights[-1]})
        per_night = rows_by_night(conn, "contact_history", nights)
        for plan in plans:
            per_night[plan.night] |= {
                "new_contacts": plan.new_contacts, "planned": plan.planned,
                "candidates": plan.candidates,
                "channel_suppressions": dg.MetadataValue.json(plan.suppressed)}
        per_night[last.night]["planned_by_channel"] = _md(by_channel)
        record_nights(context, nights, per_night)
        yield dg.MaterializeResult(metadata={
            **run_range(nights),
            **({"run_new_contacts": sum(p.new_contacts for p in plans),
                "run_channel_suppressions": dg.MetadataValue.json(suppressed)}
               if len(nights) > 1 else {}),
            "table_rows": int(conn.execute("select count(*) from contact_history").fetchone()[0]),
            "strategy_version": strategy.version,
            **table_metadata(conn, "contact_history", "collections/create_contact_history"),
        })
        yield _check(conn, "contact_history_keys_unique", {},
                     "Idempotency keys, contact ids and letter references are unique.")
        bounds = {"start_date": nights[0], "end_date": nights[-1]}
        yield _check(conn, "queues_within_capacity", bounds,
                     "No queue holds more tasks a night than its capacity.")
        yield _check(conn, "early_warnings_acted_on", bounds,
                     "Every early-warning account got a treatment or a recorded reason.")


@dg.asset(
    kinds={"python", "pdf"},
    deps=["contact_history"],
    tags=PII_TAG,
    description="The night's letter batch under $OVERDUE_HOME/out/letters/<night>/: manifest.csv, "
    "sms.jsonl (gateway requests) + sms_templates.json, email/*.eml, print/*.pdf + index.csv, "
    "work_list.csv + work_list.xlsx, held.csv; files owner-only. Every contact is linted (DOMAIN "
    "§5) before it joins; a failing contact is held with its rule, and so is one whose "
    "rendering, e-mail address, message, print layout or work-list line fails: one record never "
    "stops the batch. A released night is never rewritten: a rerun sends only new and changed "
    "letters, as new letters referencing the ones they replace, in <night>.r2/ (.r3/...). In a "
    "range of nights only the last night is rendered. Batches older than "
    "OVERDUE_LETTER_RETENTION_DAYS lose their personal-data files (purged.json lists them).",
    check_specs=[dg.AssetCheckSpec(
        "letter_batches_templates_pass_linter", asset="letter_batches", blocking=True,
        description="No template fails the compliance linter for every contact it was rendered "
        "for (such a template blocks the batch: it is written to <night>.blocked/, not released)."
    )],
    **_COMMON,
)
@nights_on_checks
def letter_batches(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    import pandas as pd

    from pipelines.lib.collections import tiering
    from pipelines.lib.collections.batch import purge_batches, summary_counts, write_batch
    from pipelines.lib.collections.strategy import load_strategy

    nights = partition_nights(context)
    night = nights[-1]
    strategy = load_strategy()
    with duckdb.get_connection() as conn:
        tiering.register_strategy(conn, strategy)
        summary = write_batch(conn, strategy, night, letters_dir())
    # personal-data files of batches past retention go; their contact records stay
    purged = purge_batches(letters_dir(),
                           night - timedelta(days=settings.letter_retention_days()))
    counts = summary_counts(summary)
    templates = pd.DataFrame(
        [{"template": k, "rendered": n, "held_by_template_rules": h}
         for k, (n, h) in summary.by_template.items()])
    context.log.info("letters %s: %d contacts, %d held, blocked=%s", night, summary.rendered,
                     summary.held, summary.blocked)
    record_nights(context, nights, {night: {
        "dagster/row_count": summary.rendered,
        "rendered_night": night.isoformat(),
        "released": counts["released"],
        "held": summary.held,
        **{f"channel_{k}": v for k, v in sorted(summary.by_channel.items())},
        "held_by_rule": dg.MetadataValue.json(summary.held_by_rule),
        "unchanged_released": summary.unchanged,
        "corrections": summary.corrections,
        "email_normalised": summary.email_normalised,
        "print_letters": summary.print_letters,
        "print_seconds": round(summary.print_seconds, 2),
        "render_and_lint_seconds": round(summary.render_seconds, 2),
        "folder": str(summary.folder),
        "blocked": summary.blocked,
        "templates": _md(templates),
        "purged_batches": len(purged),
        "purged_files": sum(p["files"] for p in purged),
    }}, default={"status": f"contacts planned, no files: the run rendered its last night, {night}"})
    yield dg.MaterializeResult(metadata={
        **run_range(nights),
        "note": ("contacts were planned for every night of the run; files were rendered for "
                 "its last night only") if len(nights) > 1 else "one night"})
    yield dg.AssetCheckResult(
        check_name="letter_batches_templates_pass_linter",
        passed=not summary.blocked,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "failing_templates": dg.MetadataValue.json(summary.failing_templates),
            "held_by_rule": dg.MetadataValue.json(summary.held_by_rule),
            "held": summary.held,
            "contacts": summary.rendered,
        })


@dg.asset(
    kinds={"duckdb", "sql"},
    deps=["collection_tiers", "account_reason_codes"],
    description="Table `credit_line_actions`: limit over-extension (过度授信) by the strategy's "
    "credit_line rules: M2+ and over-limit accounts frozen, high-risk M1 frozen, high-risk or "
    "early-warning current accounts cut toward their balance, with the undrawn limit and the "
    "exposure removed per currency and reason codes. Columns: "
    "sql/collections/credit_line_actions.sql.",
    check_specs=[dg.AssetCheckSpec(
        "credit_line_actions_never_raise_limits", asset="credit_line_actions", blocking=True,
        description="No action raises a limit, cuts one below zero or below the balance, or "
        "states an exposure removed other than the limit taken away.")],
    **_COMMON,
)
@nights_on_checks
def credit_line_actions(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    from pipelines.lib.collections import tiering
    from pipelines.lib.collections.strategy import load_strategy

    nights = partition_nights(context)
    strategy = load_strategy()
    with duckdb.get_connection() as conn:
        rows = tiering.build_credit_line_actions(conn, strategy, nights[0], nights[-1])
        mix = _query(conn, "credit_line_mix", {"night": nights[-1]})
        per_night = rows_by_night(conn, "credit_line_actions", nights)
        table = table_metadata(conn, "credit_line_actions", "collections/credit_line_actions")
        per_night[nights[-1]]["actions"] = _md(mix)
        record_nights(context, nights, per_night)
        yield dg.MaterializeResult(metadata={
            **run_range(nights), **({"run_rows": rows} if len(nights) > 1 else {}),
            "sql": sql_path("collections/credit_line_actions"), **table})
        yield _check(conn, "credit_line_actions_never_raise_limits",
                     {"start_date": nights[0], "end_date": nights[-1]},
                     "No credit-line action raises a limit.")


@dg.asset(
    kinds={"duckdb", "sql"},
    # letter_batches marks the contacts its linter held, which are not treatments sent: without
    # this edge cure_rates could run first and a rerun of the night would count differently.
    deps=["contact_history", "account_snapshots", "letter_batches"],
    description="Table `cure_rates`: for treatments sent, the share that paid or cured within 7 "
    "and 30 nights, by tier and treatment, as known each night. Columns: "
    "sql/collections/cure_rates.sql.",
    **_COMMON,
)
@nights_on_checks
def cure_rates(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    from pipelines.lib.collections import tiering

    nights = partition_nights(context)
    with duckdb.get_connection() as conn:
        rows = tiering.build_cure_rates(conn, nights[0], nights[-1])
        last = _query(conn, "cure_rates_night", {"night": nights[-1]})
        per_night = rows_by_night(conn, "cure_rates", nights)
        table = table_metadata(conn, "cure_rates", "collections/cure_rates")
    per_night[nights[-1]]["cure_rates"] = _md(last)
    record_nights(context, nights, per_night)
    return dg.MaterializeResult(metadata={
        **run_range(nights), **({"run_rows": rows} if len(nights) > 1 else {}),
        "sql": sql_path("collections/cure_rates"), **table})


@dg.definitions
def collections_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[collection_tiers, contact_history, letter_batches,
                                  credit_line_actions, cure_rates])
