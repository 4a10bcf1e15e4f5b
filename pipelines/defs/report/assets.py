"""The risk committee report (DOMAIN §6): HTML and A4 PDF, zh-CN and en, one folder per night.

A thin shell over `pipelines.lib.report`: it reads the warehouse, writes
`$OVERDUE_HOME/out/reports/<night>/risk_report.<language>.{html,pdf}` (and on a month-end night
the month-end edition `risk_report.month-end.<language>.{html,pdf}`), and records the book's key
figures as metadata the UI plots across partitions.
"""

from typing import TYPE_CHECKING

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines import settings
from pipelines.defs.metadata import nights_on_checks, record_nights, run_range
from pipelines.defs.partitions import WAREHOUSE_POOL, partition_nights
from pipelines.lib.warehouse import run_sql

if TYPE_CHECKING:
    from pipelines.lib.report.render import ReportResult

UPSTREAM = (
    "portfolio_daily", "roll_rates", "flow_rates", "vintage_curves",
    "account_scores", "model_monitoring",
    "collection_tiers", "contact_history", "cure_rates", "credit_line_actions",
    "experiment_results",  # issue 19: the experiments sub-section
    # section 9, agencies (issue 19)
    "agency_placements", "legal_review", "post_write_off_recoveries",
    # the ingest assets write `quarantine` and `ingest_log` (section 10)
    "account_snapshots", "customers", "contact_events",
    # section 9's collections-loop sub-sections
    "promises",
)
CHARTS_CHECK = "risk_report_charts_rendered"
PDF_CHECK = "risk_report_pdf_pages"


def _plain(value) -> float | None:
    """A figure as a plain float, None when it is missing (a currency without a rate gives NaN
    money figures: they are left out, never plotted as 0)."""
    from pipelines.lib.report.formatting import missing

    return None if missing(value) else float(value)


def kpi_metadata(result: "ReportResult") -> dict:
    """The book's headline figures as plain numbers (the UI plots them across partitions); the
    same keys as `book_kpis_by_night` gives the other nights of a backfill."""
    data = result.data
    kpis = {name: figure["tonight"] for name, figure in data.kpis.items()}
    ecl = data.ecl.set_index("stage")
    metadata = {
        "accounts": int(kpis["accounts"]),
        "balance": _plain(kpis["balance"]),
        "amount_currency": data.currency,
        "rate_30plus_accounts": _plain(kpis["rate_30plus_accounts"]),
        "rate_60plus_accounts": _plain(kpis["rate_60plus_accounts"]),
        "rate_90plus_accounts": _plain(kpis["rate_90plus_accounts"]),
        "rate_30plus_balance": _plain(kpis["rate_30plus_balance"]),
        "npl_ratio": _plain(kpis.get("npl_ratio")),
        "new_writeoffs": int(kpis["new_writeoffs"] or 0),
        "writeoffs_month": int(kpis["writeoffs_month"] or 0),
        "ecl_total": _plain(ecl.at["all", "ecl"]),
        "ecl_coverage": _plain(ecl.at["all", "coverage"]),
        "stage_2_share_of_balance": _plain(ecl.at[2, "share_of_balance"]),
        "stage_3_share_of_balance": _plain(ecl.at[3, "share_of_balance"]),
    }
    if data.forecast is not None:
        metadata["forecast_30plus_in_3_months"] = _plain(data.forecast.rate_30plus(3))
    return {k: v for k, v in metadata.items() if v is not None}


COUNTS = ("accounts", "new_writeoffs", "writeoffs_month")


def book_kpis_by_night(conn, nights: list) -> dict:
    """The report's book KPIs for each night of the run from its portfolio_daily rows, so a
    backfill's partitions plot each night's own book (the report itself is the last night's)."""
    result = run_sql(conn, "metadata/portfolio_kpis_by_night",
                     {"start_date": nights[0], "end_date": nights[-1]})
    names = [column[0] for column in result.description]
    per_night = {}
    for night, *values in result.fetchall():
        per_night[night] = {"report": "none for this night (a backfill reports its last night)",
                            **{k: v if isinstance(v, str) else int(v) if k in COUNTS else float(v)
                               for k, v in zip(names[1:], values) if v is not None}}
    return per_night


def kpi_markdown(result: "ReportResult") -> str:
    from pipelines.lib.report.render import kpi_table, strings

    table = kpi_table(result.data, strings()["en"], "en")
    lines = ["| " + " | ".join(table.headers) + " |",
             "|" + "|".join("---:" if i in table.numeric else "---"
                            for i in range(len(table.headers))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    return "\n".join(lines)


@dg.asset(
    group_name="report",
    kinds={"html", "pdf"},
    deps=list(UPSTREAM),
    pool=WAREHOUSE_POOL,
    description=(
        "Risk committee report for the night, HTML (self-contained, opens offline) and A4 PDF, in "
        "zh-CN and en (OVERDUE_REPORT_LANGUAGES): KPIs with changes and three generated "
        "sentences, bucket and five-class mix, trends, roll-rate heatmap and flows, Markov "
        "forecast with backtest, vintages, model, IFRS 9 stages and ECL "
        "(reports/risk_report/assumptions.yaml), collections, data quality. Counts and amounts "
        "only, never personal data. A backfill run reports its last night only."),
    check_specs=[
        dg.AssetCheckSpec(CHARTS_CHECK, asset="risk_report", description=(
            "Every language drew the same charts, each a non-empty SVG inline in the HTML, and "
            "at least the five charts that need only the features stage.")),
        dg.AssetCheckSpec(PDF_CHECK, asset="risk_report", description=(
            "Every PDF was written with at least three A4 pages.")),
    ],
)
@nights_on_checks
def risk_report(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    from pipelines.lib.report import report_dir
    from pipelines.lib.report.figures import latest_book_night
    from pipelines.lib.report.render import build_report

    nights = partition_nights(context)
    with duckdb.get_connection() as conn:
        night = latest_book_night(conn, nights[0], nights[-1])
        if night is None:
            yield from _no_book(context, nights)
            return
        out_dir = report_dir(settings.overdue_home(), night)
        result = build_report(conn, night, out_dir, registry_dir=settings.registry_dir())
        per_night = book_kpis_by_night(conn, nights)
    files = {f"{f.edition}_{f.language}": f for f in result.files}
    metadata = {
        "report": "written for this night",
        "report_night": night.isoformat(),
        "edition": "month-end" if any(f.edition == "month-end" for f in result.files)
        else "nightly",
        "folder": dg.MetadataValue.path(str(out_dir)),
        **{f"html_{key}": dg.MetadataValue.path(str(f.html)) for key, f in files.items()},
        **{f"pdf_{key}": dg.MetadataValue.path(str(f.pdf)) for key, f in files.items()},
        "pdf_pages": sum(f.pdf_pages for f in result.files),
        "pdf_engine": result.pdf_engine or "none",
        "charts": len(result.files[0].charts) if result.files else 0,
        "pd_source": result.data.pd_source,
        "seconds": round(result.seconds["total"], 2),
        **kpi_metadata(result),
        "kpis": dg.MetadataValue.md(kpi_markdown(result)),
    }
    context.log.info(f"risk report for {night}: {len(result.files)} file pairs in {out_dir}")
    per_night.setdefault(night, {}).update(metadata)
    record_nights(context, nights, per_night)
    yield dg.MaterializeResult(metadata={
        **run_range(nights),
        "nights_in_run": len(nights),
        "note": ("one report, for the last night with a book in the run's range "
                 f"({nights[0]} .. {nights[-1]}); earlier nights of a backfill get none, their "
                 "figures are the book's from portfolio_daily")
        if len(nights) > 1 else "report for the run's night"})

    chart_sets = {tuple(f.charts) for f in result.files}
    empty = [f"{f.html.name}:{key}" for f in result.files for key in f.charts
             if not _svg_in_html(f.html.read_text(encoding="utf-8"), key)]
    yield dg.AssetCheckResult(
        check_name=CHARTS_CHECK,
        passed=len(chart_sets) == 1 and not empty and len(result.files[0].charts) >= 5,
        metadata={"charts": ", ".join(result.files[0].charts),
                  "languages_agree": len(chart_sets) == 1,
                  "empty_charts": ", ".join(empty) or "none"})
    yield dg.AssetCheckResult(
        check_name=PDF_CHECK,
        passed=all(f.pdf.is_file() and f.pdf_pages >= 3 for f in result.files),
        metadata={f.pdf.name: f.pdf_pages for f in result.files})


def _no_book(context: dg.AssetExecutionContext, nights: list):
    """No night of the run has a book (every account_snapshots file missing): no report."""
    note = f"no book loaded for {nights[0]} .. {nights[-1]}: no report written"
    context.log.warning(note)
    yield dg.MaterializeResult(metadata={"nights_in_run": len(nights), "note": note})
    for check in (CHARTS_CHECK, PDF_CHECK):
        yield dg.AssetCheckResult(check_name=check, passed=False,
                                  severity=dg.AssetCheckSeverity.WARN, metadata={"note": note})


def _svg_in_html(html: str, key: str) -> bool:
    """The chart's figure holds an SVG with drawn paths."""
    start = html.find(f'data-chart="{key}"')
    if start < 0:
        return False
    end = html.find("</figure>", start)
    body = html[start:end]
    return "<svg" in body and "<path" in body


@dg.definitions
def report_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[risk_report])
