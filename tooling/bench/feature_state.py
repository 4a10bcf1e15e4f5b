"""Bench of account_features from the carried state against its kernel and the windowed query.

    python -m tooling.bench.feature_state --accounts 200000 --days 90 360

For each history length: a synthetic book (sql/bench/generate_history.sql), the state of the
night before rebuilt from history, then, in the same process, the carried night (state + features),
the kernel (sql/bench/feature_state_kernel.sql: read tonight's snapshot and the state), and the
windowed account_features.sql for the same night. Prints seconds and ratios as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import timedelta
from pathlib import Path

import duckdb

from pipelines import settings
from pipelines.lib.features.feature_state import rebuild_features
from pipelines.lib.features.nightly_tables import rebuild_nights
from pipelines.lib.sql import render_sql
from tooling.bench.features import generate_history
from tooling.bench.stages import FEATURE_NIGHT


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return round(time.perf_counter() - started, 3)


def bench_history(home: Path, accounts: int, days: int, repeats: int) -> dict:
    path = home / f"feature_state_{accounts}_{days}.duckdb"
    fresh = not path.exists()
    conn = duckdb.connect(str(path))
    setup = {}
    if fresh:
        setup["history"] = timed(lambda: generate_history(conn, accounts, days, FEATURE_NIGHT))
    previous = FEATURE_NIGHT - timedelta(days=1)
    setup["state_from_history"] = timed(lambda: rebuild_features(conn, previous, previous))
    conn.execute("checkpoint")
    night = {"night": FEATURE_NIGHT, "previous_night": previous}
    kernel_sql = render_sql("bench/feature_state_kernel")
    carried, kernel = [], []
    for _ in range(repeats):
        kernel.append(timed(lambda: conn.execute(kernel_sql, night).fetchall()))
        carried.append(timed(lambda: rebuild_features(conn, FEATURE_NIGHT, FEATURE_NIGHT)))
    (path_taken,) = conn.execute("select path from account_feature_state_night "
                                 "where state_night = $night", {"night": FEATURE_NIGHT}).fetchall()[0]
    windowed = timed(lambda: rebuild_nights(conn, "account_features", "features/account_features",
                                            FEATURE_NIGHT, FEATURE_NIGHT))
    best_carried, best_kernel = min(carried), min(kernel)
    return {"accounts": accounts, "days": days, "setup": setup, "path": path_taken,
            "carried_s": carried, "kernel_s": kernel, "windowed_s": windowed,
            "carried_over_kernel": round(best_carried / best_kernel, 2),
            "windowed_over_carried": round(windowed / best_carried, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--days", type=int, nargs="+", default=[90, 360])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    home = settings.overdue_home() / "bench"
    home.mkdir(parents=True, exist_ok=True)
    results = [bench_history(home, args.accounts, days, args.repeats) for days in args.days]
    if len(results) == 2:
        first, last = (min(r["carried_s"]) for r in results)
        results.append({"carried_last_over_first": round(last / first, 2)})
    print(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
