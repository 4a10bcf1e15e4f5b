"""`make bench`: one 1M-account night, stage by stage, each against a raw kernel in the same run.

Every stage runs in its own process so its peak RSS is its own; times exclude imports. Results
print as a table and are written to `$OVERDUE_HOME/bench/<timestamp>.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from pipelines import settings
from tooling.bench.memory import own_peak_mb

NIGHT = date(2026, 5, 3)
FEED = "account_snapshots"

# (stage, what it measures, target seconds or None, target peak RSS MB or None)
STAGES = [
    ("simulate", "simulator: one night of the book, landing files written", 3.0, None),
    ("kernel_load", "raw kernel: DuckDB read_csv + replace the night (no contract)", None, None),
    ("kernel_checks", "raw kernel: the contract's checks as plain SQL on a loaded table", None, None),
    ("contract_sql", "contract, SQL engine: read file, stage, every row rule", None, 3072),
    ("contract_ge", "contract, great-expectations: the suite on every row of the staged night",
     3.0, None),
    ("contract_ge_own_staging", "contract, great-expectations: every row, staging the file itself",
     None, None),
    ("contract_ge_sampled", "contract, great-expectations: at the nightly sample cap", None, None),
    ("ingest", "whole ingest: read, contract, quarantine, replace partition, log", 5.0, 3072),
    ("ingest_rerun", "rerun of an identical file (must be a no-op)", None, None),
    ("history_90", "setup: 90 days of daily history generated into DuckDB", None, None),
    ("features_90", "features + roll/flow rates + portfolio + vintages, one night, 90 days", 8.0, 3072),
    ("history_360", "setup: 360 days of daily history generated into DuckDB", None, None),
    ("features_360", "the same night with 360 days of history (target: <= 1.2x features_90)", None, 3072),
    ("slice_duckdb", "account_features in DuckDB on a slice pandas can hold", None, None),
    ("slice_pandas", "8 core features in pandas on the same slice (values cross-checked)", None, None),
]
FEATURE_NIGHT = date(2026, 5, 3)
SLICE_ACCOUNTS = 100_000


def _landing_file(home: Path) -> Path:
    return home / "landing" / FEED / f"{NIGHT}.csv"


def run_stage(stage: str, home: Path, accounts: int) -> dict:
    """Run one stage in this process; returns seconds (imports excluded) and rows."""
    import duckdb
    import numpy as np

    from pipelines.lib.ingest.contracts import load_contract
    from pipelines.lib.ingest.landing import read_landing_file
    from pipelines.lib.ingest.load import ingest_file
    from pipelines.lib.ingest.row_checks import run_row_checks
    from pipelines.lib.sql import render_sql

    contract = load_contract(FEED)
    path = _landing_file(home)
    rows = accounts
    if stage == "simulate":
        from tooling.simulator import simulate

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
        conn = duckdb.connect()
        conn.execute("create table snapshots as select * from read_csv($path, header = true)",
                     {"path": str(path)})
        started = time.perf_counter()
        conn.execute(render_sql("bench/contract_kernel"), {"night": NIGHT}).fetchall()
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
    elif stage in ("contract_ge", "contract_ge_own_staging", "contract_ge_sampled"):
        from pipelines.lib.ingest.ge_suite import (
            _validator_parts,
            ge_frame,
            ge_sample,
            validate_with_ge,
        )

        landed = read_landing_file(path, contract)
        _validator_parts()
        table = landed.table
        staged_on = None
        if stage == "contract_ge":
            # the night's staging, as ingest leaves it for the SQL rules (timed in contract_sql)
            staged_on = duckdb.connect()
            run_row_checks(staged_on, contract, landed)
            frame_started = time.perf_counter()
            ge_frame(table, contract, staged_on=staged_on)
            frame_seconds = time.perf_counter() - frame_started
        started = time.perf_counter()
        if stage == "contract_ge_sampled":
            table = ge_sample(table, set(), seed=landed.sha256, max_rows=settings.ge_max_rows())
        outcomes = validate_with_ge(table, contract, NIGHT, complete=True, staged_on=staged_on)
        rows = table.num_rows
        if stage == "contract_ge":
            seconds = time.perf_counter() - started
            peak_mb = own_peak_mb()
            return {"seconds": round(seconds, 3), "peak_rss_mb": round(peak_mb, 1), "rows": rows,
                    "frame_seconds": round(frame_seconds, 3),
                    "flagged_rows": sum(len(o.row_numbers) for o in outcomes)}
    elif stage.startswith("history_"):
        from tooling.bench.features import generate_history

        days = int(stage.split("_")[1])
        conn = duckdb.connect(str(home / f"features_{days}.duckdb"))
        conn.execute("set enable_progress_bar = false")
        started = time.perf_counter()
        generate_history(conn, accounts, days, FEATURE_NIGHT)
        rows = accounts * days
    elif stage.startswith("features_"):
        from pipelines.lib.features.nightly_tables import rebuild_nights
        from tooling.bench.features import FEATURE_TABLES, MILESTONES

        conn = duckdb.connect(str(home / f"{stage}.duckdb"), config=settings.duckdb_config())
        conn.execute("set enable_progress_bar = false")
        tables = {}
        started = time.perf_counter()
        for table in FEATURE_TABLES:
            table_started = time.perf_counter()
            rebuild_nights(conn, table, f"features/{table}", FEATURE_NIGHT, FEATURE_NIGHT,
                           before=MILESTONES if table == "vintage_curves" else ())
            tables[table] = round(time.perf_counter() - table_started, 3)
        seconds = time.perf_counter() - started
        peak_mb = own_peak_mb()
        return {"seconds": round(seconds, 3), "peak_rss_mb": round(peak_mb, 1), "rows": accounts,
                "tables": tables}
    elif stage in ("slice_duckdb", "slice_pandas"):
        from pipelines.lib.features.nightly_tables import rebuild_nights
        from tooling.bench.features import (
            PANDAS_COLUMNS,
            generate_history,
            pandas_account_features,
            slice_snapshots,
        )

        rows = min(accounts, SLICE_ACCOUNTS)
        conn = duckdb.connect(str(home / "slice.duckdb"))
        conn.execute("set enable_progress_bar = false")
        if stage == "slice_duckdb":
            generate_history(conn, rows, 90, FEATURE_NIGHT)
            started = time.perf_counter()
            rebuild_nights(conn, "account_features", "features/account_features",
                           FEATURE_NIGHT, FEATURE_NIGHT)
        else:
            frame = slice_snapshots(conn, rows)
            started = time.perf_counter()
            result = pandas_account_features(frame, FEATURE_NIGHT)
            seconds = time.perf_counter() - started
            sql_values = conn.execute(render_sql("bench/slice_features"),
                                      {"night": FEATURE_NIGHT}).df().set_index("account_id")
            mismatched = [c for c in PANDAS_COLUMNS if not np.allclose(
                result[c].astype(float).to_numpy(), sql_values.loc[result.index, c].astype(float)
                .to_numpy(), equal_nan=True)]
            if mismatched:
                raise RuntimeError(f"pandas and SQL disagree on {mismatched}")
            peak_mb = own_peak_mb()
            return {"seconds": round(seconds, 3), "peak_rss_mb": round(peak_mb, 1), "rows": rows,
                    "matches_sql": list(PANDAS_COLUMNS)}
    else:
        raise ValueError(f"unknown stage {stage}")
    seconds = time.perf_counter() - started
    peak_mb = own_peak_mb()
    return {"seconds": round(seconds, 3), "peak_rss_mb": round(peak_mb, 1), "rows": rows}


# Workloads with their own module: (name, module run as `python -m MODULE --accounts N --json`).
EXTRA_WORKLOADS = [
    ("model", "tooling.bench.model"),
    ("collections", "tooling.bench.collections"),
    ("report", "tooling.bench.report"),
]


def run_workload(module: str, accounts: int) -> tuple[str, dict]:
    """Run one workload module in its own process; its text report and its figures."""
    work = settings.overdue_home() / "bench" / "work" / module.rsplit(".", 1)[-1]
    shutil.rmtree(work, ignore_errors=True)
    completed = subprocess.run(
        [sys.executable, "-m", module, "--accounts", str(accounts), "--home", str(work), "--json"],
        capture_output=True, text=True, check=False,
        env=os.environ | {"GX_ANALYTICS_ENABLED": "false"})
    if completed.returncode != 0:
        raise RuntimeError(f"{module} failed: {completed.stderr.strip()[-2000:]}")
    *text, figures = completed.stdout.strip().splitlines()
    return "\n".join(text) + "\n", json.loads(figures)


def _machine() -> str:
    return f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}"


def orchestrate(accounts: int, skip: set[str]) -> dict:
    work = settings.overdue_home() / "bench" / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    figures: dict[str, dict] = {}
    for stage, _, _, _ in STAGES:
        if stage in skip or (stage.startswith("features_") and f"history_{stage[9:]}" in skip):
            continue
        completed = subprocess.run(
            [sys.executable, "-m", "tooling.bench.stages", "--stage", stage, "--home", str(work),
             "--accounts", str(accounts)],
            capture_output=True, text=True, check=False,
            env=os.environ | {"GX_ANALYTICS_ENABLED": "false"})
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
        "contract_ge / kernel_checks": ratio("contract_ge", "kernel_checks"),
        "contract_ge_own_staging / contract_sql": ratio("contract_ge_own_staging", "contract_sql"),
        "contract_ge_sampled / contract_sql": ratio("contract_ge_sampled", "contract_sql"),
        "features_360 / features_90": ratio("features_360", "features_90"),
        "slice_pandas / slice_duckdb": ratio("slice_pandas", "slice_duckdb"),
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
    for stage in ("features_90", "features_360"):
        if stage in figures:
            lines.append(f"  {stage} by table: " + ", ".join(
                f"{t} {s:.2f}s" for t, s in figures[stage]["tables"].items()))
    lines.append("ratios: " + ", ".join(f"{k} = {v}" for k, v in ratios.items() if v is not None))
    lines.append("targets: ingest <= 5 s; features_90 <= 8 s; features_360 / features_90 <= 1.2; "
                 "slice_pandas / slice_duckdb >= 8; peak RSS <= 3 GB")
    record = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "workloads": {"one_night": {"accounts": accounts, "stages": figures, "ratios": ratios}},
    }
    return "\n".join(lines) + "\n", record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.bench.stages", description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--skip", default="", help="comma-separated stages to leave out")
    args = parser.parse_args(argv)
    if args.stage:
        sys.stdout.write(json.dumps(run_stage(args.stage, Path(args.home), args.accounts)) + "\n")
        return 0
    skip = set(filter(None, args.skip.split(",")))
    figures = orchestrate(args.accounts, skip)
    text, record = report(args.accounts, figures)
    sys.stdout.write(text)
    for name, module in EXTRA_WORKLOADS:
        if name in skip:
            continue
        extra_text, extra_figures = run_workload(module, args.accounts)
        sys.stdout.write(extra_text)
        record["workloads"][name] = extra_figures
    out = settings.overdue_home() / "bench" / f"{record['measured_at'].replace(':', '')}.json"
    out.write_text(json.dumps(record, indent=2))
    sys.stdout.write(f"written {out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
