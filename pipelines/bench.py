"""`make bench`: one 1M-account night, stage by stage, each against a raw kernel in the same run.

Every stage runs in its own process so its peak RSS is its own; times exclude imports. Results
print as a table and are written to `$OVERDUE_HOME/bench/<timestamp>.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from pipelines import settings

NIGHT = date(2026, 5, 3)
FEED = "account_snapshots"

# (stage, what it measures, target seconds or None, target peak RSS MB or None)
STAGES = [
    ("simulate", "simulator: one night of the book, landing files written", 3.0, None),
    ("kernel_load", "raw kernel: DuckDB read_csv + replace the night (no contract)", None, None),
    ("kernel_checks", "raw kernel: the contract's checks as plain SQL on a loaded table", None, None),
    ("contract_sql", "contract, SQL engine: read file, stage, every row rule", None, 3072),
    ("contract_ge", "contract, great-expectations: the generated suite on every row", None, None),
    ("contract_ge_sampled", "contract, great-expectations: at the nightly sample cap", None, None),
    ("ingest", "whole ingest: read, contract, quarantine, replace partition, log", 5.0, 3072),
    ("ingest_rerun", "rerun of an identical file (must be a no-op)", None, None),
]


def _landing_file(home: Path) -> Path:
    return home / "landing" / FEED / f"{NIGHT}.csv"


def run_stage(stage: str, home: Path, accounts: int) -> dict:
    """Run one stage in this process; returns seconds (imports excluded) and rows."""
    import duckdb

    from pipelines.lib.contracts import load_contract
    from pipelines.lib.ingest import ingest_file
    from pipelines.lib.landing import read_landing_file
    from pipelines.lib.row_checks import run_row_checks

    contract = load_contract(FEED)
    path = _landing_file(home)
    rows = accounts
    if stage == "simulate":
        from pipelines.simulator import simulate

        started = time.perf_counter()
        simulate(home, accounts=accounts, days=1, end_date=NIGHT, seed=11)
    elif stage == "kernel_load":
        conn = duckdb.connect(str(home / "kernel.duckdb"))
        conn.execute("create table if not exists snapshots as "
                     "select * from read_csv($path, header = true) limit 0", {"path": str(path)})
        started = time.perf_counter()
        conn.execute("begin transaction")
        conn.execute("delete from snapshots where snapshot_date = $night", {"night": NIGHT})
        conn.execute("insert into snapshots select * from read_csv($path, header = true)",
                     {"path": str(path)})
        conn.execute("commit")
    elif stage == "kernel_checks":
        from pipelines.lib.sql import render_sql

        conn = duckdb.connect()
        conn.execute("create table snapshots as select * from read_csv($path, header = true)",
                     {"path": str(path)})
        started = time.perf_counter()
        conn.execute(render_sql("checks/bench_contract_kernel"), {"night": NIGHT}).fetchall()
    elif stage in ("contract_sql", "ingest"):
        started = time.perf_counter()
        if stage == "ingest":
            result = ingest_file(duckdb.connect(str(home / "warehouse.duckdb")), contract, path)
            rows = result.rows_read
        else:
            landed = read_landing_file(path, contract)
            run_row_checks(duckdb.connect(), contract, landed)
            rows = landed.rows_read
    elif stage == "ingest_rerun":
        conn = duckdb.connect(str(home / "warehouse.duckdb"))
        started = time.perf_counter()
        result = ingest_file(conn, contract, path)
        if result.status != "unchanged":
            raise RuntimeError(f"rerun of an identical file was not a no-op: {result.status}")
    elif stage in ("contract_ge", "contract_ge_sampled"):
        from pipelines.lib.ge_suite import GE_MAX_ROWS, _validator_parts, ge_sample, validate_with_ge

        landed = read_landing_file(path, contract)
        _validator_parts()
        started = time.perf_counter()
        table = landed.table
        if stage == "contract_ge_sampled":
            table = ge_sample(table, set(), seed=landed.sha256, max_rows=GE_MAX_ROWS)
        validate_with_ge(table, contract, NIGHT, complete=True)
        rows = table.num_rows
    else:
        raise ValueError(f"unknown stage {stage}")
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": round(seconds, 3), "peak_rss_mb": round(peak_mb, 1), "rows": rows}


def _machine() -> str:
    return f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}"


def orchestrate(accounts: int, skip: set[str]) -> dict:
    work = settings.overdue_home() / "bench" / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    figures: dict[str, dict] = {}
    for stage, _, _, _ in STAGES:
        if stage in skip:
            continue
        completed = subprocess.run(
            [sys.executable, "-m", "pipelines.bench", "--stage", stage, "--home", str(work),
             "--accounts", str(accounts)],
            capture_output=True, text=True, env=os.environ | {"GX_ANALYTICS_ENABLED": "false"})
        if completed.returncode != 0:
            raise RuntimeError(f"stage {stage} failed: {completed.stderr.strip()[-2000:]}")
        figures[stage] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def report(accounts: int, figures: dict) -> tuple[str, dict]:
    def ratio(a: str, b: str):
        if a in figures and b in figures and figures[b]["seconds"]:
            return round(figures[a]["seconds"] / figures[b]["seconds"], 2)
        return None

    ratios = {
        "ingest / kernel_load": ratio("ingest", "kernel_load"),
        "contract_sql / kernel_checks": ratio("contract_sql", "kernel_checks"),
        "contract_ge / contract_sql": ratio("contract_ge", "contract_sql"),
        "contract_ge_sampled / contract_sql": ratio("contract_ge_sampled", "contract_sql"),
    }
    lines = [f"overdue bench: {accounts:,} accounts, one night ({_machine()})",
             f"{'stage':<22}{'seconds':>9}{'rows/s':>12}{'peak RSS MB':>13}  target  what"]
    for stage, what, target_s, target_mb in STAGES:
        if stage not in figures:
            continue
        f = figures[stage]
        rate = f"{f['rows'] / f['seconds']:,.0f}" if f["seconds"] else "-"
        verdicts = []
        if target_s is not None:
            verdicts.append(f"≤{target_s:g}s {'ok' if f['seconds'] <= target_s else 'MISSED'}")
        if target_mb is not None:
            verdicts.append(f"≤{target_mb / 1024:g}GB {'ok' if f['peak_rss_mb'] <= target_mb else 'MISSED'}")
        lines.append(f"{stage:<22}{f['seconds']:>9.2f}{rate:>12}{f['peak_rss_mb']:>13.0f}  "
                     f"{', '.join(verdicts) or '-':<6}  {what}")
    lines.append("ratios: " + ", ".join(f"{k} = {v}" for k, v in ratios.items() if v is not None))
    record = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "workloads": {"ingest_1night": {"accounts": accounts, "stages": figures, "ratios": ratios}},
    }
    return "\n".join(lines) + "\n", record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.bench", description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--skip", default="", help="comma-separated stages to leave out")
    args = parser.parse_args(argv)
    if args.stage:
        sys.stdout.write(json.dumps(run_stage(args.stage, Path(args.home), args.accounts)) + "\n")
        return 0
    figures = orchestrate(args.accounts, set(filter(None, args.skip.split(","))))
    text, record = report(args.accounts, figures)
    sys.stdout.write(text)
    out = settings.overdue_home() / "bench" / f"{record['measured_at'].replace(':', '')}.json"
    out.write_text(json.dumps(record, indent=2))
    sys.stdout.write(f"written {out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
