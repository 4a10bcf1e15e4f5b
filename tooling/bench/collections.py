"""Benchmark of the collections stage on a synthetic night (issue 5 targets, 1M accounts):
tiering <= 3 s, rendering + linting >= 50k contacts/s per core, print PDFs for the night's formal
letters <= 2 min; issue 20: e-mail MIME >= 5k e-mails/s per core. Each figure has a baseline
measured in the same run on the same rows (the e-mails: Python's `email` package, the path the
direct writer replaced, tooling/email_reference.py).

    python -m tooling.bench.collections --accounts 1000000 [--no-print]

The book is synthesised set-wise in SQL (sql/collections/bench_*.sql) into a fresh warehouse
under `home`; nothing else there is touched. PDFs: a fresh book has every T3/T4 account entering
its tier tonight, which no real night has, so the PDF figure renders the letters of accounts
whose tier entry falls tonight in steady state (T3 + T4 stock / 30 nights in tier), capped at
the letters planned.
"""

import os
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import jinja2

from pipelines.lib.collections import tiering
from pipelines.lib.collections.batch import build_email, envelope_address, fetch_contacts
from pipelines.lib.collections.linter import Linter
from pipelines.lib.collections.pdf import render_print_batches
from pipelines.lib.collections.rendering import LETTERS_DIR, PARTS, Renderer, template_name
from pipelines.lib.collections.strategy import load_strategy
from pipelines.lib.sql import bind, render_sql
from tooling.bench.workload import workload_main
from tooling.email_reference import reference_email

NIGHT = date(2026, 5, 3)
TEXT_CHANNELS = ("sms", "email")


def _statement(conn, name: str, params: dict) -> None:
    sql = render_sql(f"bench/{name}")
    for statement in (s for s in sql.split(";\n") if s.strip()):
        conn.execute(statement, bind(statement, params))


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def email_figures(strategy, renderer: Renderer, rows: list[dict]) -> dict:
    """E-mails/s of one core building the night's e-mails from their rendered parts, the direct
    writer against the `email` package on the same letters (rendering is not timed)."""
    letters = []
    for row in rows:
        rules = strategy.jurisdiction(row["jurisdiction"])
        address, _ = envelope_address(row["email"])
        letters.append((row | {"email": address}, renderer.render(row),
                        rules.lender_for(row["locale"]), rules.opt_out("email", row["locale"])))
    if not letters:
        return {"emails": 0}
    def cpu_timed(build):
        # CPU seconds of this process: a core's rate even when other work shares the machine
        started = time.process_time()
        built = [build(*letter) for letter in letters]
        return time.process_time() - started, built

    new_seconds, new = cpu_timed(build_email)
    old_seconds, old = cpu_timed(reference_email)
    return {"emails": len(letters),
            "email_mime_per_s_per_core": round(len(letters) / new_seconds),
            "baseline_email_package_per_s_per_core": round(len(letters) / old_seconds),
            "email_mime_speedup": round(old_seconds / new_seconds, 1),
            "email_bytes_identical": int(new == old)}


PRINT = True  # --no-print: leave out the print PDFs (minutes at 1M)


def run(home: Path, accounts: int) -> dict:
    """Measure tiering, rendering + linting, e-mail MIME and print PDFs on `accounts` accounts."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "bench_collections.duckdb"
    if path.exists():
        path.unlink()
    strategy = load_strategy()
    figures: dict = {"accounts": accounts, "night": NIGHT.isoformat()}
    with duckdb.connect(str(path)) as conn:
        params = {"night": NIGHT, "accounts": accounts}
        figures["book_seconds"], _ = _timed(lambda: [
            _statement(conn, name, params)
            for name in ("collections_book", "collections_features", "collections_customers")])
        baseline_sql = render_sql("bench/collections_group_by")
        figures["tiering_baseline_group_by_seconds"], _ = _timed(
            lambda: conn.execute(baseline_sql, {"night": NIGHT}).fetchall())
        figures["tiering_seconds"], rows = _timed(
            lambda: tiering.build_tiers(conn, strategy, NIGHT, NIGHT))
        figures["tiering_rows"] = rows
        figures["tiering_vs_group_by"] = round(
            figures["tiering_seconds"] / figures["tiering_baseline_group_by_seconds"], 1)
        figures["planning_seconds"], plan = _timed(
            lambda: tiering.plan_night(conn, strategy, NIGHT))
        figures["contacts_planned"] = plan.planned
        figures["fetch_contacts_seconds"], contacts = _timed(
            lambda: fetch_contacts(conn, strategy, NIGHT))

    texts = [row for row in contacts if row["channel"] in TEXT_CHANNELS]
    renderer, linter = Renderer(strategy), Linter(strategy)

    def render_and_lint():
        for row in texts:
            linter.lint(row, renderer.render(row))

    raw = jinja2.Environment(loader=jinja2.FileSystemLoader(LETTERS_DIR), autoescape=True)

    def raw_render():
        templates = {}
        for row in texts:
            context = dict(row, lender=renderer.lender(row["jurisdiction"], row["locale"]),
                           opt_out=renderer.opt_out(row["jurisdiction"], row["channel"],
                                                    row["locale"]))
            for part in PARTS[row["channel"]]:
                key = (row["channel"], row["template"], row["locale"], part)
                if key not in templates:
                    templates[key] = raw.get_template(template_name(*key))
                templates[key].render(context)

    everything = texts
    for channel in (None, *TEXT_CHANNELS):
        texts = [r for r in everything if channel is None or r["channel"] == channel]
        suffix = f"_{channel}" if channel else ""
        render_and_lint()  # warm the template caches
        seconds, _ = _timed(render_and_lint)
        raw_seconds, _ = _timed(raw_render)
        figures[f"text_contacts{suffix}"] = len(texts)
        figures[f"render_lint_contacts_per_s_per_core{suffix}"] = (
            round(len(texts) / seconds) if texts else 0)
        figures[f"baseline_raw_jinja_contacts_per_s{suffix}"] = (
            round(len(texts) / raw_seconds) if texts else 0)

    figures |= email_figures(strategy, renderer,
                             [row for row in everything if row["channel"] == "email"])
    letters_planned = [row for row in contacts if row["channel"] == "letter"]
    if not PRINT:
        path.unlink()
        return figures | {"cores": os.cpu_count()}
    with duckdb.connect(str(path), read_only=True) as conn:
        stock = conn.execute("select count(*) from collection_tiers where tier in ('T3', 'T4')"
                             ).fetchone()[0]
    steady = min(len(letters_planned), max(1, round(stock / 30)))
    sample = letters_planned[:steady]
    rendered = [(row, renderer.render(row).parts["html"]) for row in sample]
    out = home / "bench_collections_print"
    out.mkdir(exist_ok=True)
    for old in out.glob("*.pdf"):
        old.unlink()
    figures["print_letters"] = len(rendered)
    figures["print_letters_planned_fresh_book"] = len(letters_planned)
    figures["print_seconds"], index = _timed(lambda: render_print_batches(rendered, out))
    figures["print_pages"] = sum(int(entry["pages"]) for entry in index)
    figures["print_pages_per_s"] = round(figures["print_pages"] / figures["print_seconds"], 1)
    figures["cores"] = os.cpu_count()
    path.unlink()
    return figures


def report(figures: dict) -> str:
    """The figures as lines for `make bench`, each with its baseline and target."""
    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    lines = [f"collections at {figures.get('accounts', 0):,} accounts:"]
    for key, value in figures.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            lines.append(f"  {key}: {value:,}")
    if "tiering_seconds" in figures:
        lines.append(f"  targets: tiering <= 3 s {verdict(figures['tiering_seconds'] <= 3)}; "
                     f"print PDFs <= 120 s {verdict(figures.get('print_seconds', 1e9) <= 120)}; "
                     "render + lint >= 50,000 contacts/s per core; e-mail MIME >= 5,000/s per "
                     f"core {verdict(figures.get('email_mime_per_s_per_core', 0) >= 5000)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    global PRINT
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--no-print" in argv:
        argv.remove("--no-print")
        PRINT = False
    return workload_main("collections", __doc__, run, report, argv)


if __name__ == "__main__":
    raise SystemExit(main())
