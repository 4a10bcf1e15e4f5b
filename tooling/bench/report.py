"""Benchmark of the risk report: HTML + PDF (both languages) for a book of N accounts.

Builds a book of N accounts on the nights the report reads (weekly nights over five months and
the month-apart nights it compares), its feature tables through the real SQL, then times
`build_report`. Baselines measured in the same run: the bare SQL of the figures (every
`sql/report/` query the report runs, without the Python around it), WeasyPrint on a plain
A4 document with as many pages and the same fonts but no charts, and both PDF engines (Chromium,
WeasyPrint) printing the report's own HTML files one after the other.

    python -m tooling.bench.report --accounts 1000000 [--home DIR] [--json]
"""

from __future__ import annotations

import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from pipelines import settings
from pipelines.lib import fx
from pipelines.lib.features.nightly_tables import rebuild_nights
from pipelines.lib.ingest.load import ensure_warehouse
from pipelines.lib.report import ifrs9, printing
from pipelines.lib.report.figures import one_month_earlier
from pipelines.lib.report.ifrs9 import load_assumptions
from pipelines.lib.report.render import build_report, write_pdf
from pipelines.lib.sql import bind, render_sql
from pipelines.lib.warehouse import load_macros
from tooling.bench.memory import own_peak_mb
from tooling.bench.workload import workload_main

NIGHT = date(2026, 5, 20)  # not a month end: the nightly edition, as on most nights
TARGET_SECONDS = 30.0
FIGURE_QUERIES = ("portfolio_history", "bucket_mix", "roll_rates_history", "flow_rates_night",
                  "vintage_night", "ingest_quality", "quarantine_by_rule", "portfolio_by_currency",
                  "quarantined_snapshots")
TABLES = ("portfolio_daily", "roll_rates", "flow_rates", "vintage_curves")


def bench_nights(night: date = NIGHT) -> list[date]:
    """Weekly nights over 150 days, the night before, and four months of month-apart nights."""
    nights = {night - timedelta(days=d) for d in range(0, 150, 7)} | {night - timedelta(days=1)}
    month = night
    for _ in range(4):
        month = one_month_earlier(month)
        nights.add(month)
    return sorted(nights)


def build_book(conn: duckdb.DuckDBPyConnection, accounts: int) -> dict:
    started = time.perf_counter()
    ensure_warehouse(conn)
    load_macros(conn)
    nights = bench_nights()
    conn.register("bench_nights", pd.DataFrame({"snapshot_date": pd.to_datetime(nights)}))
    conn.execute(render_sql("bench/report_book"), {"accounts": accounts, "end_date": NIGHT})
    conn.unregister("bench_nights")
    generated = time.perf_counter() - started
    for table in TABLES:
        rebuild_nights(conn, table, f"features/{table}", nights[0], NIGHT,
                       before=("features/create_account_milestones",
                               "features/update_account_milestones")
                       if table == "vintage_curves" else ())
    conn.execute("checkpoint")
    return {"nights": len(nights), "rows": accounts * len(nights),
            "generate_seconds": round(generated, 2),
            "setup_seconds": round(time.perf_counter() - started, 2)}


def bare_sql_seconds(conn: duckdb.DuckDBPyConnection) -> float:
    """Every figure query of the report, straight to DuckDB (ECL included, chain PD empty)."""
    assumptions = load_assumptions()
    month = one_month_earlier(NIGHT)
    params = {"night": NIGHT, "month_earlier": month, "start_date": NIGHT, "end_date": NIGHT,
              "reporting_currency": settings.reporting_currency(),
              "lookback_days": fx.LOOKBACK_DAYS}
    started = time.perf_counter()
    for name in FIGURE_QUERIES:
        sql = render_sql(f"report/{name}")
        conn.execute(sql, bind(sql, params)).fetchall()
    ifrs9.exposure(conn, NIGHT, assumptions, {}, with_scores=False, with_eir=False)
    return time.perf_counter() - started


def plain_pdf_seconds(pages: int, out: Path) -> float:
    """WeasyPrint on a plain A4 document of `pages` pages: headings, a table, Chinese text."""
    paragraph = "逾期率与迁徙率的汇总说明，Counts and amounts only. " * 12
    rows = "".join(f"<tr><td>M{i % 7}</td><td>{i * 1234:,}</td><td>{i / 7:.1%}</td></tr>"
                   for i in range(25))
    body = "".join(f"<h2>第{p + 1}节 Section {p + 1}</h2><p>{paragraph}</p><table>{rows}</table>"
                   f"<p>{paragraph}</p>" for p in range(pages))
    html = ("<html><head><style>@page{size:A4;margin:16mm} html{font-family:'Noto Sans CJK SC';"
            "font-size:9.5pt} h2{break-before:page}</style></head><body>" + body + "</body></html>")
    started = time.perf_counter()
    write_pdf(html, out)
    return time.perf_counter() - started


def engine_seconds(files, out: Path) -> dict:
    """Each engine found printing the same report HTML files, one at a time (browser start
    included for Chromium)."""
    out.mkdir(parents=True, exist_ok=True)
    engines = ["weasyprint"] + (["chromium"] if printing.chromium_path() else [])
    seconds = {}
    for engine in engines:
        started = time.perf_counter()
        with printing.Printer(engine) as printer:
            for f in files:
                printer.print(f.html, out / f"{engine}.{f.pdf.name}")
        seconds[engine] = round(time.perf_counter() - started, 2)
    return seconds


def run(home: Path, accounts: int) -> dict:
    """Time the report (HTML + PDF, zh-CN and en) for a book of `accounts` accounts."""
    home = Path(home)
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    conn = duckdb.connect(str(home / "warehouse.duckdb"), config=settings.duckdb_config())
    conn.execute("set enable_progress_bar = false")
    book = build_book(conn, accounts)
    baseline_sql = bare_sql_seconds(conn)
    result = build_report(conn, NIGHT, home / "out", languages=("zh-CN", "en"))
    pages = max(f.pdf_pages for f in result.files)
    baseline_pdf = plain_pdf_seconds(pages, home / "plain.pdf")
    engines = engine_seconds(result.files, home / "engines")
    conn.close()
    seconds = result.seconds
    return {
        "accounts": accounts,
        "book": book,
        "seconds": round(seconds["total"], 2),
        "gather_seconds": round(seconds["gather"], 2),
        "html_seconds": round(seconds["html"], 2),
        "pdf_seconds": round(seconds["pdf"], 2),
        "pdf_engine": result.pdf_engine,
        "engine_pdf_seconds": engines,
        "weasyprint_over_chromium": round(engines["weasyprint"] / engines["chromium"], 2)
        if engines.get("chromium") else None,
        "documents": len(result.files),
        "pdf_pages": [f.pdf_pages for f in result.files],
        "charts": len(result.files[0].charts),
        "baseline_bare_sql_seconds": round(baseline_sql, 2),
        "baseline_plain_pdf_seconds": round(baseline_pdf, 2),
        "gather_over_bare_sql": round(seconds["gather"] / baseline_sql, 2) if baseline_sql else None,
        "pdf_over_plain_pdf": round(seconds["pdf"] / len(result.files) / baseline_pdf, 2)
        if baseline_pdf else None,
        "target_seconds": TARGET_SECONDS,
        "met": seconds["total"] <= TARGET_SECONDS,
        "peak_rss_mb": round(own_peak_mb(), 1),
        "files": [str(f.html) for f in result.files] + [str(f.pdf) for f in result.files],
    }


def report(figures: dict) -> str:
    verdict = "ok" if figures["met"] else "MISSED"
    return (
        f"risk report for {figures['accounts']:,} accounts ({figures['book']['nights']} nights, "
        f"{figures['book']['rows']:,} snapshot rows; book built in "
        f"{figures['book']['setup_seconds']:.0f} s): {figures['seconds']:.1f} s for "
        f"{figures['documents']} HTML + {figures['documents']} PDF "
        f"(<= {figures['target_seconds']:g} s {verdict})\n"
        f"  figures {figures['gather_seconds']:.2f} s (bare SQL {figures['baseline_bare_sql_seconds']:.2f} s, "
        f"ratio {figures['gather_over_bare_sql']}); charts + HTML {figures['html_seconds']:.2f} s; "
        f"PDF {figures['pdf_seconds']:.2f} s for pages {figures['pdf_pages']} (plain A4 "
        f"document of as many pages {figures['baseline_plain_pdf_seconds']:.2f} s, ratio per "
        f"document {figures['pdf_over_plain_pdf']}; engine {figures['pdf_engine']}); peak RSS "
        f"{figures['peak_rss_mb']:,.0f} MB\n"
        f"  the same HTML printed one file after another: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in figures["engine_pdf_seconds"].items())
        + f" (weasyprint / chromium {figures['weasyprint_over_chromium']})\n")


def main(argv: list[str] | None = None) -> int:
    return workload_main("report", __doc__, run, report, argv)


if __name__ == "__main__":
    raise SystemExit(main())
