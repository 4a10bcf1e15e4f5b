"""The `overdue simulate` and `overdue demo` commands: the simulator and the demo, added to the
product's command line as an extension (entry point group `overdue.commands`), so the pipeline
never imports its tooling."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path

from pipelines import settings
from pipelines.cli import CommandError, _date, run_nights

log = logging.getLogger("overdue")


def register(sub) -> None:
    """Add `simulate`, `demo` and `closed-loop` to the `overdue` subcommands."""
    p = sub.add_parser("simulate", help="write a simulated book's landing files and truth")
    p.add_argument("--home", help="default $OVERDUE_HOME")
    p.add_argument("--accounts", type=int, default=20_000)
    p.add_argument("--days", type=int, default=180)
    p.add_argument("--end-date", type=_date, help="last night, default yesterday")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.add_argument("--macro-shock-date", type=_date)
    p.add_argument("--faults", help="CLASS=RATE,... injected into one night's account_snapshots")
    p.add_argument("--fault-date", type=_date, help="night to inject into, default the last")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("demo", help="simulate a book, backfill its history, run the last night")
    p.add_argument("--accounts", type=int, default=20_000)
    p.add_argument("--days", type=int, default=180)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--fresh", action="store_true",
                   help="delete landing/, truth/, the warehouse and dagster_home/ first")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("closed-loop", help="simulate night by night, writing the outcomes of "
                       "last night's plan, and run the pipeline each night (tooling.closed_loop)")
    p.add_argument("--accounts", type=int, default=300)
    p.add_argument("--nights", type=int, default=90)
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--world", choices=("effect", "none"), default="effect")
    p.add_argument("--effect-size", type=float, default=1.0)
    p.add_argument("--calls-in-feed", action="store_true",
                   help="call dispositions in the outcomes feed, not the filled work list")
    p.set_defaults(func=cmd_closed_loop)


def cmd_simulate(args) -> None:
    from tooling.faults import inject_faults, parse_fault_spec, write_fault_manifest
    from tooling.simulator import simulate

    home = Path(args.home or settings.overdue_home())
    summary = simulate(home, accounts=args.accounts, days=args.days, end_date=args.end_date,
                       seed=args.seed, file_format=args.format,
                       macro_shock_date=args.macro_shock_date, progress=not args.quiet)
    log.info("simulated %d accounts, %s .. %s, into %s", summary.accounts, summary.start_date,
             summary.end_date, home / "landing")
    if args.faults:
        if args.format != "csv":
            raise CommandError("--faults works on CSV landing files only")
        rates = parse_fault_spec(args.faults)
        night = args.fault_date or summary.end_date
        path = home / "landing" / "account_snapshots" / f"{night.isoformat()}.csv"
        faults = inject_faults(path, path, rates, seed=args.seed)
        write_fault_manifest(home, "account_snapshots", night, faults)
        log.info("injected %d defects into %s (manifest under truth/faults/)", len(faults), path)


def cmd_closed_loop(args) -> None:
    from tooling.closed_loop import main

    main(["--accounts", str(args.accounts), "--nights", str(args.nights), "--warmup",
          str(args.warmup), "--seed", str(args.seed), "--world", args.world, "--effect-size",
          str(args.effect_size), *(["--calls-in-feed"] if args.calls_in_feed else [])])


DEMO_FAULTS = (
    "wrong_type=0.0005,null_key=0.0003,duplicate_key=0.0003,negative_amount=0.0005,"
    "past_due_gt_balance=0.0005,dpd_without_past_due=0.0005,past_due_without_dpd=0.0005,"
    "future_date=0.0005,unknown_status=0.0003,bad_currency=0.0003,"
    "wrong_snapshot_date_rows=0.0003,breakdown_not_summing=0.0003,extra_column=1"
)


def cmd_demo(args) -> None:
    """Simulate a book, load its history in one backfill run, run the last night, report."""
    home = settings.overdue_home()
    if args.fresh:
        for generated in ("landing", "truth", "warehouse.duckdb", "dagster_home", "registry",
                          "out"):
            target = home / generated
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    end = date.today() - timedelta(days=1)
    start = end - timedelta(days=args.days - 1)
    os.environ["OVERDUE_START_DATE"] = start.isoformat()
    cmd_simulate(argparse.Namespace(
        home=str(home), accounts=args.accounts, days=args.days, end_date=end, seed=args.seed,
        format="csv", macro_shock_date=None, faults=DEMO_FAULTS, fault_date=end, quiet=False))
    log.info("backfill %s .. %s as one run", start, end - timedelta(days=1))
    run_nights(start, end - timedelta(days=1))
    log.info("nightly run for %s (with injected faults)", end)
    run_nights(end, end)
    sys.stdout.write(_demo_report(home, end))


def _demo_report(home: Path, night: date) -> str:
    from pipelines.lib.report import report_files
    from pipelines.lib.summary import model_summary, warehouse_summary
    from tooling.demo import letters_summary
    from tooling.faults import read_fault_manifest

    faults = read_fault_manifest(home, "account_snapshots", night)
    by_class: dict[str, int] = {}
    for fault in faults:
        by_class[fault.fault_class] = by_class.get(fault.fault_class, 0) + 1
    lines = [
        "",
        "== overdue demo ==",
        f"home          {home}",
        f"landing files {home / 'landing'}",
        f"truth         {home / 'truth'}",
        f"dagster home  {home / 'dagster_home'}  (make ui: http://127.0.0.1:3000)",
        f"injected into account_snapshots/{night}.csv: "
        + ", ".join(f"{k} {v}" for k, v in sorted(by_class.items())),
        "",
        warehouse_summary(settings.warehouse_path()),
        model_summary(settings.registry_dir(), settings.warehouse_path(), night),
        letters_summary(home, night),
        "",
        "risk committee report (opens offline):",
        *(f"  {path}" for path in report_files(home, night)),
        "",
    ]
    return "\n".join(lines)


