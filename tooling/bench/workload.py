"""The command line every `make bench` workload module shares (model, collections, report).

Why one: `tooling.bench.stages` runs each workload in its own process and reads its text report and
one JSON line of figures; the protocol must be the same for all of them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from pipelines import settings


def workload_main(name: str, doc: str, run: Callable[[Path, int], dict],
                  report: Callable[[dict], str], argv: list[str] | None = None) -> int:
    """`python -m pipelines.bench_<name> --accounts N [--home DIR] [--json]`."""
    parser = argparse.ArgumentParser(prog=f"python -m pipelines.bench_{name}", description=doc)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--home", help=f"scratch directory (default $OVERDUE_HOME/bench/{name})")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args(argv)
    home = Path(args.home) if args.home else settings.overdue_home() / "bench" / name
    figures = run(home, args.accounts)
    sys.stdout.write(report(figures))
    if args.json:
        sys.stdout.write(json.dumps(figures, default=str) + "\n")
    return 0
