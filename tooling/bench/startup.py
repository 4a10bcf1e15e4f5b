"""Startup of a night: from the command to its first step's STEP_START (issue 20: <= 3 s).

A tiny simulated book (300 accounts, two nights) is written under `$OVERDUE_HOME/bench/startup`
once; each repeat runs `overdue run --date <night>` as a process of its own and reads the run's
Dagster event log: startup = first STEP_START - the moment the process was started. The night
runs to its end (a killed run would leave the warehouse mid-step), restricted by default to the
ingest group, which starts the same way as the whole night.

In the same run, as the kernel it is compared with: a bare `python -c "import dagster"`, and
`python -X importtime` of loading the code location, which gives the import time of each heavy
package (0 when a package is not imported at all).

    python -m tooling.bench.startup [--repeat 3] [--groups all]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from pipelines import settings

NIGHT = date(2026, 5, 20)
HEAVY = ("dagster", "dagster_duckdb", "duckdb", "pandas", "numpy", "pyarrow", "jinja2", "yaml",
         "matplotlib", "scipy", "xgboost", "openpyxl", "great_expectations", "weasyprint",
         "fpdf", "sklearn", "email.mime")
LOAD_LOCATION = "import pipelines.cli; from pipelines.definitions import defs; defs()"


def env_for(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("OVERDUE_WAREHOUSE", None)
    return env | {"OVERDUE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster_home"),
                  "OVERDUE_START_DATE": (NIGHT - timedelta(days=1)).isoformat(),
                  "GX_ANALYTICS_ENABLED": "false"}


def tiny_book(home: Path) -> None:
    if (home / "landing" / "account_snapshots" / f"{NIGHT}.csv").exists():
        return
    from tooling.simulator import simulate

    simulate(home, accounts=300, days=2, end_date=NIGHT, seed=7)


def overdue_command() -> list[str]:
    return [sys.executable, "-c", "import sys; from pipelines.cli import main; sys.exit(main())"]


def first_step_after(home: Path, started: float) -> dict:
    """The latest run's RUN_START and first STEP_START, as seconds after `started`."""
    os.environ.update(env_for(home))
    from pipelines.cli import _dagster_instance

    instance = _dagster_instance()
    run = instance.get_runs(limit=1)[0]
    run_start = first_step = None
    for record in instance.all_logs(run.run_id):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type_value in ("RUN_START", "PIPELINE_START") and run_start is None:
            run_start = record.timestamp
        if event.event_type_value == "STEP_START" and first_step is None:
            first_step = record.timestamp
    return {"run_start_s": round(run_start - started, 3) if run_start else None,
            "first_step_s": round(first_step - started, 3) if first_step else None,
            "run_status": run.status.value}


def night_startup(home: Path, groups: list[str] | None) -> dict:
    command = overdue_command() + ["run", "--date", NIGHT.isoformat()]
    if groups:
        command += ["--groups", *groups]
    started = time.time()
    done = subprocess.run(command, env=env_for(home), cwd=settings.REPO_ROOT, capture_output=True,
                          text=True, check=False)
    total = time.time() - started
    if done.returncode != 0:
        raise RuntimeError(f"the night failed: {done.stderr.strip()[-2000:]}")
    return first_step_after(home, started) | {"total_s": round(total, 2)}


def import_times(home: Path) -> tuple[dict[str, float], float]:
    """Seconds of import per heavy package while the code location loads (the own time of its
    modules, so a package imported by another is not counted twice); the load's wall."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", LOAD_LOCATION],
                          env=env_for(home), cwd=settings.REPO_ROOT, capture_output=True,
                          text=True, check=True)
    wall = time.perf_counter() - started
    seconds = dict.fromkeys(HEAVY, 0.0)
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        name = name.strip()
        package = next((p for p in HEAVY if name == p or name.startswith(p + ".")), None)
        if package and own.strip().isdigit():
            seconds[package] += int(own) / 1e6
    return {k: round(v, 3) for k, v in seconds.items()}, round(wall, 2)


def bare_dagster() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import dagster, dagster_duckdb"], check=True)
    return round(time.perf_counter() - started, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path,
                        default=settings.overdue_home() / "bench" / "startup")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--groups", nargs="+", default=["ingest"],
                        help="asset groups of the night ('all': the whole night)")
    args = parser.parse_args(argv)
    home = args.home.resolve()
    tiny_book(home)
    groups = None if args.groups == ["all"] else args.groups
    nights = [night_startup(home, groups) for _ in range(args.repeat)]
    dagster_s = bare_dagster()
    imports, location_s = import_times(home)
    first = statistics.median(n["first_step_s"] for n in nights)
    record = {"first_step_s_median": first, "nights": nights,
              "bare_import_dagster_s": dagster_s, "load_location_s": location_s,
              "startup_over_bare_dagster": round(first / dagster_s, 2),
              "import_s": imports, "load_average": [round(x, 2) for x in os.getloadavg()]}
    print(f"command -> first STEP_START: median {first:.2f} s over {len(nights)} "
          f"({', '.join(str(n['first_step_s']) for n in nights)}); run start "
          f"{statistics.median(n['run_start_s'] for n in nights):.2f} s")
    print(f"kernel: python -c 'import dagster, dagster_duckdb' {dagster_s:.2f} s "
          f"(startup / kernel {record['startup_over_bare_dagster']}x); "
          f"loading the code location (-X importtime) {location_s:.2f} s")
    print("import time of each heavy package while the location loads (0 = not imported):")
    for name, seconds in imports.items():
        print(f"  {name:<20} {seconds:6.3f} s")
    print(f"load average {record['load_average']}")
    out = home / "startup.json"
    out.write_text(json.dumps(record, indent=2))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
