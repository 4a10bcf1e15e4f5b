"""A night of a book split into customer shards against the same night as one warehouse.

Issue 21's bench. A simulated book (`--accounts`, `--days` nights of landing files) is written
once under `$OVERDUE_HOME/bench/shards/book` (setup, not measured). Its nights are then run by
`overdue run` in a process of their own, once as one warehouse and once per shard count of
`--shards` (each shard count in a fresh home: its shards' runs queued phase by phase and
launched by the Dagster daemon `OVERDUE_SHARD_WORKERS` at a time, run history in PostgreSQL).
Printed: each home's wall time for the last night, its ratio to one warehouse, the cores it kept
busy on average (the machine's busy CPU seconds from /proc/stat over the wall time: a night that
already keeps every core busy as one warehouse cannot be made faster by running shards side by
side on the same machine), and from the split homes' Dagster run records: the runs of the night, the seconds per phase, and the run
overhead (a run's end minus its start, less the time its steps took).

In the same run, the merge kernel: the last night's account_snapshots of the one warehouse
cut into 8 and 64 Parquet partials (one per shard) and one aggregate of the night (accounts and
balance by product and days-past-due band) read over all of them, against the same aggregate
over the table itself.

    python -m tooling.bench.shards --accounts 1000000 --days 2 --shards 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from pipelines import settings


def env_for(home: Path, shards: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OVERDUE_", "DAGSTER_"))}
    return env | {"OVERDUE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster_home"),
                  "OVERDUE_SHARDS": str(shards), "GX_ANALYTICS_ENABLED": "false",
                  "OVERDUE_REPORT_LANGUAGES": os.environ.get("OVERDUE_REPORT_LANGUAGES", "zh-CN,en"),
                  **({"OVERDUE_SHARD_WORKERS": os.environ["OVERDUE_SHARD_WORKERS"]}
                     if "OVERDUE_SHARD_WORKERS" in os.environ else {})}


def book(root: Path, accounts: int, days: int):
    """The landing files of the book (written once; the dates of its nights)."""
    marker = root / "book.json"
    if marker.exists():
        found = json.loads(marker.read_text())
        if found["accounts"] == accounts and found["days"] == days:
            return found
        shutil.rmtree(root)
    from tooling.simulator import simulate

    started = time.monotonic()
    summary = simulate(root, accounts=accounts, days=days, seed=21)
    found = {"accounts": accounts, "days": days, "end": summary.end_date.isoformat(),
             "setup_s": round(time.monotonic() - started, 1)}
    marker.write_text(json.dumps(found))
    return found


def busy_cpu_seconds() -> float:
    """The machine's CPU seconds not idle since boot (every core, every process)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run_home(template: Path, home: Path, shards: int, nights: list[str]) -> dict:
    if home.exists():
        if shards > 1:
            subprocess.run(["scripts/postgres", "stop"], env=env_for(home, shards), check=False)
        shutil.rmtree(home)
    shutil.copytree(template / "landing", home / "landing")
    seconds, cores = {}, {}
    for night in nights:
        started, busy = time.monotonic(), busy_cpu_seconds()
        done = subprocess.run([str(Path(sys.executable).with_name("overdue")), "run", "--date",
                               night], env=env_for(home, shards), capture_output=True, text=True,
                              cwd=settings.REPO_ROOT, check=False)
        if done.returncode:
            raise SystemExit(f"{home.name} {night}: {done.stderr.strip()[-2000:]}")
        seconds[night] = round(time.monotonic() - started, 1)
        cores[night] = round((busy_cpu_seconds() - busy) / (time.monotonic() - started), 2)
    return {"seconds": seconds, "cores_busy": cores, **(run_records(home, nights[-1]) if shards > 1 else {})}


def run_records(home: Path, night: str) -> dict:
    """The night's runs from the home's Dagster instance: phase seconds and run overhead."""
    os.environ.update(env_for(home, 2))
    import dagster as dg

    instance = dg.DagsterInstance.get()
    runs = [r for r in instance.get_run_records() if r.dagster_run.tags.get(
        "dagster/partition/night", r.dagster_run.tags.get("dagster/partition")) == night]
    overhead, rows = [], []
    for record in runs:
        steps = instance.get_records_for_run(record.dagster_run.run_id, of_type={
            dg.DagsterEventType.STEP_SUCCESS}).records
        step_s = sum(r.event_log_entry.dagster_event.event_specific_data.duration_ms
                     for r in steps) / 1000
        wall = record.end_time - record.start_time
        overhead.append(wall - step_s)
        rows.append({"job": record.dagster_run.job_name,
                     "partition": record.dagster_run.tags.get("dagster/partition"),
                     "start": record.start_time, "end": record.end_time, "steps_s": step_s})
    instance.dispose()
    return {"runs": len(runs), "run_overhead_s": round(sum(overhead) / max(len(overhead), 1), 2),
            "queued_to_end_s": round(max(r["end"] for r in rows) - min(r["start"] for r in rows), 1)
            if rows else None, "run_list": rows}


def merge_kernel(one: Path, night: str, work: Path) -> dict:
    import duckdb

    from pipelines.lib.warehouse import load_macros, run_sql

    result = {}
    with duckdb.connect() as conn:
        run_sql(conn, "bench/attach_book", path=str(one / "warehouse.duckdb"))
        load_macros(conn)
        params = {"night": night}
        started = time.monotonic()
        run_sql(conn, "bench/night_aggregate", params, source="book.account_snapshots").fetchall()
        result["table_s"] = round(time.monotonic() - started, 3)
        for count in (8, 64):
            folder = work / f"partials_{count}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            run_sql(conn, "bench/shard_partials", params | {"parts": count}, folder=str(folder))
            started = time.monotonic()
            run_sql(conn, "bench/night_aggregate", params,
                    source=f"read_parquet('{folder}/*/*.parquet')").fetchall()
            result[f"partials_{count}_s"] = round(time.monotonic() - started, 3)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.bench.shards", description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--shards", default="2", help="shard counts to compare with one, e.g. 2,4")
    args = parser.parse_args(argv)
    root = settings.overdue_home() / "bench" / "shards"
    found = book(root / "book", args.accounts, args.days)
    end = __import__("datetime").date.fromisoformat(found["end"])
    nights = [(end - timedelta(days=d)).isoformat() for d in range(args.days - 1, -1, -1)]
    result = {"accounts": args.accounts, "nights": nights, "load_before": os.getloadavg(),
              "homes": {}}
    for shards in [1, *map(int, args.shards.split(","))]:
        result["homes"][shards] = run_home(root / "book", root / f"home_{shards}", shards, nights)
    for shards in result["homes"]:
        if shards > 1:  # the split homes' PostgreSQL servers: not left running after the bench
            subprocess.run(["scripts/postgres", "stop"], env=env_for(root / f"home_{shards}", shards),
                           cwd=settings.REPO_ROOT, check=False, capture_output=True)
    result["merge"] = merge_kernel(root / "home_1", nights[-1], root)
    result["load_after"] = os.getloadavg()
    one = result["homes"][1]["seconds"][nights[-1]]
    print(f"{args.accounts:,} accounts, last night {nights[-1]}; one warehouse {one:.1f} s")
    for shards, home in result["homes"].items():
        last = home["seconds"][nights[-1]]
        extra = (f"; {home['runs']} runs, run overhead {home['run_overhead_s']:.1f} s each"
                 if shards > 1 else "")
        print(f"  {shards} shard(s): {last:.1f} s = {last / one:.2f}x one warehouse, "
              f"{home['cores_busy'][nights[-1]]:.2f} of {os.cpu_count()} cores busy{extra}")
    merge = result["merge"]
    print(f"  merge kernel (night aggregate): table {merge['table_s']:.3f} s, 8 partials "
          f"{merge['partials_8_s']:.3f} s, 64 partials {merge['partials_64_s']:.3f} s")
    out = root.parent / "shards.json"
    out.write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
