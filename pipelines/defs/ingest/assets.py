"""Ingest assets: one per landing feed, generated from the feed's data contract.

Each night's file is checked against its contract and loaded in one transaction; rows that break
a rule go to `quarantine` with the rule. A range of nights (a backfill) runs as one run.
"""

import sys
import threading
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines import settings
from pipelines.defs.checks import sql_check_result
from pipelines.defs.metadata import (
    PII_TAG,
    flag_run,
    nights_on_checks,
    record_nights,
    run_range,
    table_metadata,
)
from pipelines.defs.partitions import WAREHOUSE_POOL, partition_nights
from pipelines.defs.resources import LandingResource
from pipelines.lib.ingest.contracts import Contract, feeds, load_contract
from pipelines.lib.warehouse import run_sql

if TYPE_CHECKING:
    from pipelines.lib.ingest.load import IngestResult
    from pipelines.lib.ingest.volume import GateResult


def _reconcile_check(conn, contract: Contract, nights: list[date]) -> dg.AssetCheckResult:
    from pipelines.lib.ingest.load import table_name

    return sql_check_result(
        conn, f"{contract.feed}_rows_reconcile", "assert_ingest_rows_reconcile",
        {"feed": contract.feed, "start_date": min(nights), "end_date": max(nights)},
        count_key="offending_files", table=table_name(contract),
        partition_column=contract.partition_column)


def _recognised_check(feed: str, entries: list) -> dg.AssetCheckResult:
    listed = "\n".join(f"- `{entry.path.name}`: {entry.reason}" for entry in entries[:50])
    return dg.AssetCheckResult(
        check_name=f"{feed}_landing_files_recognised", passed=not entries,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"unrecognised_entries": len(entries),
                  "entries": dg.MetadataValue.md(listed or "every entry is a night or control file")})


def _gate_check(context: dg.AssetExecutionContext, conn, gate: "GateResult",
                results: list["IngestResult"]) -> dg.AssetCheckResult:
    """A whole-night gate as a blocking check: ERROR stops everything downstream, unless the run
    carries an operator's acceptance (then it passes, with the acceptance on its metadata)."""
    from pipelines.lib.ingest.volume import acceptance_from_tags, record_gate

    loaded = {r.night: r.rows_loaded for r in results}
    acceptance = acceptance_from_tags(context.run.tags)
    record_gate(conn, gate, partition_nights(context), loaded, context.run.run_id, acceptance)
    if gate.accepted:
        context.log.warning(gate.description)
        flag_run(context, f"volume_accepted_{gate.feed}", gate.accepted.by)
    rows = [f"| {r['night']} | {r['outcome']} | {r['detail']} |" for r in gate.offending[:30]]
    metadata = {
        "offending_nights": len(gate.offending),
        "nights": dg.MetadataValue.md("\n".join(["| night | outcome | figures |", "|---|---|---|",
                                                  *rows])) if rows else "none",
        "accepted": bool(gate.accepted),
    }
    if gate.accepted:
        metadata |= {"accepted_by": gate.accepted.by, "accepted_reason": gate.accepted.reason,
                     "accepted_in_run": context.run.run_id}
    return dg.AssetCheckResult(
        check_name=f"{gate.feed}_{gate.gate}", passed=not gate.blocked,
        severity=dg.AssetCheckSeverity.ERROR if gate.blocked else dg.AssetCheckSeverity.WARN,
        description=gate.description, metadata=metadata)


def nights_for_ge(results: list["IngestResult"], quarantined: dict,
                  limit: int) -> list["IngestResult"]:
    """The files great-expectations validates in a run: all of them up to `limit`; beyond that
    (a backfill) every file with quarantined rows, the last night, and a seeded sample of the
    rest, so a 180-night backfill is not held up for minutes by a fixed cost per validation."""
    import numpy as np

    files = [r for r in results if r.landed is not None]
    if len(files) <= limit:
        return files
    keep = {r.night for r in files if quarantined.get(r.night)} | {files[-1].night}
    others = [r for r in files if r.night not in keep]
    rng = np.random.default_rng(len(files))
    sampled = rng.choice(len(others), size=min(max(limit - len(keep), 0), len(others)),
                         replace=False)
    keep |= {others[i].night for i in sampled}
    return [r for r in files if r.night in keep]


def _contract_check(context: dg.AssetExecutionContext, conn, home: Path, contract: Contract,
                    results: list["IngestResult"]) -> dg.AssetCheckResult:
    """great-expectations over the run's files; also proves the SQL engine agrees with it, and
    publishes the validations as Data Docs."""
    from pipelines.lib.ingest.ge_suite import ge_sample, validate_file
    from pipelines.lib.ingest.landing import ROW_NUMBER
    from pipelines.lib.ingest.row_checks import reference_values

    rows = []
    validations = []
    disagreements = []
    validated = 0
    read = 0
    quarantined_by_night = {
        result.night: {rule: set(numbers) for rule, numbers in run_sql(
            conn, "ingest/quarantined_rows_by_rule",
            {"feed": contract.feed, "file_date": result.night}).fetchall()}
        for result in results if result.landed is not None}
    chosen = nights_for_ge(results, quarantined_by_night, settings.ge_backfill_nights())
    references = reference_values(conn, contract)
    # the temp table `staged` still holds the last file the run checked row by row
    staged_night = next((r.night for r in reversed(results) if r.status == "loaded"), None)
    for result in chosen:
        quarantined = quarantined_by_night[result.night]
        flagged = set().union(*quarantined.values()) if quarantined else set()
        table = ge_sample(result.landed.table, flagged, seed=result.sha256 or "")
        validated += table.num_rows
        read += result.landed.table.num_rows
        sampled = set(table[ROW_NUMBER].to_pylist()) if table.num_rows < result.landed.table.num_rows else None
        outcomes, validation = validate_file(
            table, contract, result.night, complete=True, references=references,
            staged_on=conn if sampled is None and result.night == staged_night else None)
        validations.append((result.night, validation))
        for outcome in outcomes:
            sql_rows = quarantined.get(outcome.rule, set())
            if sampled is not None:
                sql_rows = sql_rows & sampled
            if sql_rows != outcome.row_numbers:
                disagreements.append(f"{result.night} {outcome.rule}: GE {len(outcome.row_numbers)}"
                                     f" rows, SQL {len(sql_rows)} rows")
            if not outcome.success:
                observed = ("(personal data)" if outcome.column in contract.personal_columns
                            else ", ".join(outcome.observed_value or [])[:80])
                rows.append(f"| {result.night} | {outcome.rule} | {outcome.expectation} |"
                            f" {outcome.unexpected_count} |"
                            f" {', '.join(map(str, outcome.sample_rows))} | {observed} |")
    docs = _publish_docs(context, home, contract, validations)
    table_md = "\n".join(
        ["| night | rule | expectation | unexpected | sample rows | observed |",
         "|---|---|---|---|---|---|", *rows[:50]]) if rows else "every expectation passed"
    return dg.AssetCheckResult(
        check_name=f"{contract.feed}_contract",
        passed=not rows and not disagreements,
        severity=dg.AssetCheckSeverity.ERROR if disagreements else dg.AssetCheckSeverity.WARN,
        description=(f"great-expectations suite generated from {contract.path.name} "
                     f"v{contract.version}: failing rows were quarantined, clean rows loaded"),
        metadata={
            "contract_version": contract.version,
            "expectations": len(contract.rules),
            "failed_expectations": len(rows),
            "rows_validated_by_ge": validated,
            "rows_read": read,
            "nights_validated_by_ge": f"{len(chosen)} of {len(quarantined_by_night)}",
            "engines_agree": not disagreements,
            "disagreements": "; ".join(disagreements[:10]) or "none",
            "results": dg.MetadataValue.md(table_md),
            **docs,
        },
    )


def _publish_docs(context: dg.AssetExecutionContext, home: Path, contract: Contract,
                  validations: list) -> dict:
    """The run's validations in the great-expectations Data Docs; a site that cannot be written
    is reported on the check, it does not fail the night's load."""
    from pipelines.lib.ingest.data_docs import publish

    if not validations:
        return {}
    try:
        docs = publish(home, contract, validations)
    except Exception as error:  # noqa: BLE001 - the docs are a view; the check result is the record
        context.log.warning(f"{contract.feed}: data docs not written: {error}")
        return {"data_docs": f"not written: {str(error).splitlines()[0][:200]}"}
    return {"data_docs": dg.MetadataValue.path(str(docs.index)),
            "data_docs_pages": dg.MetadataValue.md("\n".join(
                f"- {night}: `{page}`" for night, page in sorted(docs.pages.items())))}


def _quarantine_table(by_rule: dict[str, int]) -> dg.MetadataValue | str:
    if not by_rule:
        return "none"
    return dg.MetadataValue.md("\n".join(["| rule | violations |", "|---|---|"]
                                         + [f"| {k} | {v} |" for k, v in sorted(by_rule.items())]))


def night_metadata(result: "IngestResult") -> dict:
    """One night's file as its partition shows it: the file, its sha256, its rows."""
    return {
        "dagster/row_count": result.rows_loaded,
        "rows_read": result.rows_read,
        "rows_loaded": result.rows_loaded,
        "rows_quarantined": result.rows_quarantined,
        "rows_skipped": result.rows_skipped,
        "quarantined_by_rule": _quarantine_table(result.quarantined_by_rule),
        "status": result.status,
        "file_sha256": result.sha256 or "",
        "source_file": result.source_file or "",
        "notes": result.message or "",
    }


NO_FILE = {"dagster/row_count": 0, "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0,
           "rows_skipped": 0,
           "quarantined_by_rule": "none", "status": "no file", "file_sha256": "",
           "source_file": "", "notes": "no landing file for this night"}


LINEAGE_COLUMNS = {
    "landing_date": "the night of the file the row came in (feeds without a date column)",
    "extra_columns": "columns the file had beyond the contract, as JSON",
    "source_file": "the landing file the row was loaded from",
    "source_row": "the row's 1-based data row in that file",
    "shard": "the customer's shard, shard_of(customer_id, OVERDUE_SHARDS): 0 on a book of one",
}


def run_metadata(conn, contract: Contract, nights: list[date], results: list["IngestResult"],
                 skipped: list[date]) -> dict:
    """What holds for every night of the run (each night's own figures are on its partition)."""
    from pipelines.lib.ingest.load import table_name

    described = LINEAGE_COLUMNS | {c.name: c.description + (" (personal data)" if c.personal_data
                                                            else "") for c in contract.columns}
    metadata = {"contract_version": contract.version, "table": table_name(contract),
                **table_metadata(conn, table_name(contract), definitions=described),
                **run_range(nights)}
    if len(nights) > 1:
        metadata |= {"run_rows_loaded": sum(r.rows_loaded for r in results),
                     "run_rows_quarantined": sum(r.rows_quarantined for r in results),
                     "run_nights_without_file": len(skipped)}
    return metadata


def import_great_expectations_meanwhile() -> None:
    """Start importing great-expectations (about 3 s, in Python) on a thread: the contract
    check needs it only after the night's file is read and loaded, work done in DuckDB and Arrow,
    which release the GIL, so the night no longer waits for the import."""
    if "great_expectations" in sys.modules or _GE_IMPORT:
        return
    # SQLAlchemy's ORM is imported by both great-expectations and Dagster's PostgreSQL storage (a
    # split book's runs): a module two threads import at once can be seen half-initialised
    # (AttributeError: partially initialized module 'sqlalchemy.orm.exc'), so it is imported here
    import sqlalchemy.orm  # noqa: F401

    def load() -> None:
        from pipelines.lib.ingest.ge_suite import great_expectations

        great_expectations()

    _GE_IMPORT.append(threading.Thread(target=load, name="import-great-expectations",
                                       daemon=True))
    _GE_IMPORT[0].start()


_GE_IMPORT: list[threading.Thread] = []  # one import per process


def build_ingest_asset(feed: str) -> dg.AssetsDefinition:
    from pipelines.lib.ingest.load import table_name
    from pipelines.lib.ingest.volume import BAND_FEEDS

    contract = load_contract(feed)
    required = "required" if contract.required_feed else "optional"

    @dg.asset(
        name=feed,
        group_name="ingest",
        kinds={"duckdb", "csv"},
        tags=PII_TAG if contract.personal_columns else None,
        pool=WAREHOUSE_POOL,
        description=(
            f"Landing feed `{feed}` ({required}), checked against data contract "
            f"`{contract.path.name}` v{contract.version} and loaded into `{table_name(contract)}`, "
            f"one partition per night. Rows breaking a rule are in `quarantine`."),
        check_specs=[
            dg.AssetCheckSpec(f"{feed}_rows_reconcile", asset=feed, blocking=True,
                              description="Every row read is loaded or quarantined: rows read = "
                              "loaded + quarantined, and the warehouse holds exactly the loaded."),
            dg.AssetCheckSpec(f"{feed}_quarantine_share", asset=feed, blocking=True,
                              description="No night quarantines more than "
                              "OVERDUE_MAX_QUARANTINE_SHARE (default 0.5) of its rows; accepted "
                              "with the run tag overdue/accept_volume_change."),
            *([dg.AssetCheckSpec(f"{feed}_book_volume", asset=feed, blocking=True,
                                 description="Loaded rows of each night are not zero and within "
                                 "OVERDUE_VOLUME_BAND (default -20,+30 percent) of the previous "
                                 "night's; accepted with the run tag overdue/accept_volume_change.")]
              if feed in BAND_FEEDS else []),
            dg.AssetCheckSpec(f"{feed}_contract", asset=feed,
                              description="great-expectations suite generated from the contract; "
                              "fails (WARN) when rows were quarantined, (ERROR) if the SQL row "
                              "checks and great-expectations disagree on any row."),
            dg.AssetCheckSpec(f"{feed}_landing_files_recognised", asset=feed,
                              description="Every entry of the landing folder is a night file or "
                              "its control file; others are listed in ingest_log as unrecognised "
                              "with the reason (WARN: they were not read)."),
        ],
    )
    @nights_on_checks
    def ingest_asset(context: dg.AssetExecutionContext, duckdb: DuckDBResource,
                     landing: LandingResource):
        from pipelines.lib.exchange import PUBLISHED_TABLES, publish
        from pipelines.lib.ingest.landing import FileRejected
        from pipelines.lib.ingest.load import (
            IngestResult,
            LandingFileNotReady,
            MissingLandingFile,
            ingest_night,
            landing_unrecognised,
            record_unrecognised,
        )
        from pipelines.lib.ingest.volume import book_volume_gate, quarantine_share_gate

        import_great_expectations_meanwhile()
        nights = partition_nights(context)
        results: list[IngestResult] = []
        skipped: list[date] = []
        with duckdb.get_connection() as conn:
            unrecognised = landing_unrecognised(landing.root, feed, settings.max_landing_gap_days())
            record_unrecognised(conn, contract, max(nights), unrecognised)
            if unrecognised:
                context.log.warning(f"{feed}: {len(unrecognised)} unrecognised landing entr(ies), "
                                    "not read: " + "; ".join(f"{e.path.name}: {e.reason}"
                                                             for e in unrecognised[:5]))
            for night in nights:
                try:
                    result = ingest_night(conn, feed, night, landing.root, duckdb.shard)
                except MissingLandingFile as error:
                    if len(nights) == 1:
                        raise dg.Failure(description=str(error)) from error
                    skipped.append(night)
                    continue
                except LandingFileNotReady as error:
                    raise dg.Failure(description=f"{feed} {night}: {error}") from error
                except FileRejected as error:
                    raise dg.Failure(
                        description=f"{feed} {night}: file rejected, nothing loaded: {error}",
                        metadata={"file": str(error.path), "rule": error.rule},
                    ) from error
                if result.status == "absent":
                    skipped.append(night)
                    continue
                results.append(result)
                context.log.info(
                    f"{feed} {night}: {result.status}, read {result.rows_read}, loaded "
                    f"{result.rows_loaded}, quarantined {result.rows_quarantined}")
            if skipped:
                context.log.warning(f"{feed}: no file for {len(skipped)} night(s): "
                                    f"{', '.join(map(str, skipped[:10]))}")
            if table_name(contract) in PUBLISHED_TABLES:
                for table in (table_name(contract), "ingest_log", "quarantine"):
                    publish(conn, duckdb.shard, table, nights)
            record_nights(context, nights, {r.night: night_metadata(r) for r in results},
                          default=NO_FILE)
            quarantined = sum(r.rows_quarantined for r in results)
            if quarantined:
                flag_run(context, f"quarantined_{feed}", f"{quarantined} rows")
            yield dg.MaterializeResult(metadata=run_metadata(conn, contract, nights, results,
                                                             skipped))
            yield _reconcile_check(conn, contract, nights)
            yield _gate_check(context, conn, quarantine_share_gate(conn, feed, nights), results)
            if feed in BAND_FEEDS:
                yield _gate_check(context, conn, book_volume_gate(conn, feed, nights), results)
            # a shard's Data Docs are its own site: the shards of a night validate at once
            yield _contract_check(context, conn, duckdb.shard.home(), contract, results)
            yield _recognised_check(feed, unrecognised)

    return ingest_asset


@dg.definitions
def ingest_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[build_ingest_asset(feed) for feed in feeds()])
