"""One whole night through the real path at 1M (and 10M) accounts, against its raw kernels.

Issue 7's end-to-end bench. For each workload a book is built straight into DuckDB (setup, not
measured): `history_days` of daily snapshots (sql/bench/night_book_snapshots.sql), customers,
account_features on the nights the model's training set reads plus the last 8 nights, the
report's history tables, account milestones, a champion model a week old, its scores and 8
nights of tiers and planned contacts (so tonight's letters are the steady-state entries, not a
fresh book's every delinquent account). Then the night's landing files are written and the night
runs through `pipelines.cli.run_nights` (the Dagster job `nightly`, in-process) in a process of
its own, so its peak RSS is the night's. Stage times come from the run's Dagster events.

In the same process, after the run, the raw kernels of that night are timed with nothing around
them: DuckDB partition replace of the night's file, the contract checks as plain SQL, the
account_features query, XGBoost train (same rows and parameters as the retrain) and predict, and
a bare Jinja2 render of the night's contacts. The figures print as a table and are written as
JSON under `$OVERDUE_HOME/bench/`.

    python -m tooling.bench.night --accounts 1000000 --history-days 90
    python -m tooling.bench.night --workloads W1M,W1M-360[,W10M] [--home DIR] [--profile]

A W10M book takes over an hour to build: `--book-only` builds it and stops, `--reuse-book` then
measures the night on a book built earlier whose night has not run yet (a night already run would
be measured as a rerun, so that is refused). A setup that crashed (the W10M one was killed by the
kernel's OOM killer once, scoring 10M accounts before scoring read them in chunks) continues from
its last finished step (`book.partial.json`) when it is started again.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Self

from pipelines import settings
from tooling.bench.memory import own_peak_mb

NIGHT = date(2026, 5, 20)  # not a month end: the nightly edition of the report, as most nights
# Nights of features, tiers and planned contacts before the measured night: enough for every
# cadence of the strategy (weekly texts; letters once per tier entry, which needs last night's tier).
STEADY_NIGHTS = 8
# The champion already registered is a week old: its training nights are then a subset of
# tonight's retrain's (both weekly, ending a month before their as-of night).
CHAMPION_AGE_DAYS = 7
CHANGED_CUSTOMERS = 0.002  # share of customers in the night's delta file
# The setup is not measured: it may use more of the machine's memory than a night is allowed.
BOOK_MARKER = "book.json"  # written when a book's setup completed
BOOK_PROGRESS = "book.partial.json"  # the setup steps done so far: a crashed setup continues
WORKLOADS = {"W1M": (1_000_000, 90), "W1M-noretrain": (1_000_000, 90),
             "W1M-360": (1_000_000, 360), "W10M": (10_000_000, 90)}
DEFAULT_WORKLOADS = ("W1M", "W1M-noretrain", "W1M-360")
# A night on which no retrain is due (six nights in seven of a weekly cadence): the W1M book,
# copied before its night runs, with a cadence longer than the champion's age, so the champion
# registered a week ago is reused.
NO_RETRAIN = {"W1M-noretrain": "W1M"}
NO_RETRAIN_ENV = {"OVERDUE_MODEL_RETRAIN_EVERY_DAYS": "30"}

STAGES = ("ingest", "contracts", "features", "roll rates", "retrain+gate", "scoring+reason codes",
          "monitoring", "tiers", "collections loop", "letters", "report", "other", "startup",
          "orchestration")
ASSET_STAGES = {
    "account_features": "features", "portfolio_daily": "features", "vintage_curves": "features",
    "data_dictionary": "features",
    "roll_rates": "roll rates", "flow_rates": "roll rates",
    "delinquency_model": "retrain+gate",
    "account_scores": "scoring+reason codes",
    "model_monitoring": "monitoring",
    "collection_tiers": "tiers", "contact_history": "tiers", "credit_line_actions": "tiers",
    # issue 19: what came back from last night's contacts, promises, offers, agencies, experiments
    "contact_outcomes_applied": "collections loop", "promises": "collections loop",
    "offers": "collections loop", "agency_placements": "collections loop",
    "agency_placement_files": "collections loop", "legal_review": "collections loop",
    "post_write_off_recoveries": "collections loop", "experiment_results": "collections loop",
    "cure_rates": "collections loop",
    "letter_batches": "letters",
    "risk_report": "report",
}
# stage -> the kernel it is compared with
KERNEL_OF = {"ingest": "partition_replace", "contracts": "contract_checks",
             "features": "snapshot_and_state_read", "retrain+gate": "xgboost_train",
             "scoring+reason codes": "xgboost_predict", "letters": "jinja2_render"}
# issue 20's targets: a night with its retrain, one without (the champion reused), a book of four
# times the history at most 1.2x the 90-day one (`of`: the workload it is compared with)
TARGETS = {"W1M": {"total_s": 100, "peak_rss_mb": 6144},
           "W1M-noretrain": {"total_s": 60, "peak_rss_mb": 6144},
           "W1M-360": {"of": ("W1M", 1.2), "peak_rss_mb": 6144},
           "W10M": {"total_s": 600, "peak_rss_mb": 16384}}


def _peak_mb() -> float:
    """This process's own peak resident set (VmHWM): not getrusage, which carries over the
    high-water mark of the bench process that started it (tooling/bench/memory.py). Its workers
    (report languages, print files, the browser) are in the tree the bench process samples."""
    return own_peak_mb() or 0.0


def _tree_rss_mb(pid: int) -> float | None:
    """Resident memory of `pid` and every live descendant (print PDF workers), from /proc; None
    where there is no /proc."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    children: dict[int, list[int]] = {}
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            total += int((proc / str(current) / "statm").read_text().split()[1]) * page_mb
        except (OSError, IndexError, ValueError):
            continue
        todo.extend(children.get(current, ()))
    return total


def _high_water_mb(pid: int) -> float | None:
    """The process's own peak resident set so far (VmHWM), in MB; None once it has gone."""
    return own_peak_mb(pid)


class RssSampler:
    """Samples a process tree's resident memory a few times a second, so that the peak can be
    given per step: getrusage only knows the whole run's maximum.

    Given another process's `pid` (the night's), the samples are taken from this process: a call
    in the night that holds its GIL cannot hold the sampler up. Each sample also reads the night
    process's VmHWM, so a spike shorter than the interval still shows in the step it happened in.
    """

    def __init__(self, every_s: float = 0.2, pid: int | None = None):
        self.every_s = every_s
        self.pid = pid
        self.samples: list[tuple[float, float]] = []
        self.high_water: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)

    def _sample(self) -> None:
        pid = self.pid or os.getpid()
        while True:
            rss = _tree_rss_mb(pid)
            if rss is None:
                return
            at = time.time()
            self.samples.append((at, rss))
            hwm = _high_water_mb(pid) if self.pid else None
            if hwm is not None:
                self.high_water.append((at, hwm))
            if self._stop.wait(self.every_s):
                return

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak_between(self, start: float, end: float) -> float | None:
        """The largest sample taken in [start, end] (epoch seconds), in MB; for a step shorter
        than the sampling interval, the sample nearest to it."""
        inside = [rss for at, rss in self.samples if start <= at <= end]
        if inside:
            return round(max(inside), 1)
        if not self.samples:
            return None
        middle = (start + end) / 2
        return round(min(self.samples, key=lambda sample: abs(sample[0] - middle))[1], 1)

    def high_water_rise(self, start: float, end: float) -> float:
        """How far the night process's VmHWM rose in [start, end], in MB: a step that set the
        night's peak shows it here even when no sample caught the spike."""
        before = [hwm for at, hwm in self.high_water if at < start]
        inside = [hwm for at, hwm in self.high_water if start <= at <= end]
        if not inside:
            return 0.0
        return round(max(inside) - (before[-1] if before else 0.0), 1)

    def peak(self) -> float | None:
        return round(max(rss for _, rss in self.samples), 1) if self.samples else None


def _machine() -> str:
    return (f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu, "
            f"Python {platform.python_version()}")


def _first_night(history_days: int) -> date:
    return NIGHT - timedelta(days=history_days - 1)


# --- setup (not measured) -------------------------------------------------------------------

# A 90-day book holds about 60 matured nights, 25 of them 35 days (the required history) after
# its first snapshot: too few for the default 28 + 28 days of validation and monitoring before
# any training night. Such a book gets a week of each (OVERDUE_MODEL_* variables, as a lender
# with a young book would set them); a variable already set wins.
SHORT_BOOK_DAYS = 150
SHORT_BOOK_MODEL_ENV = {"OVERDUE_MODEL_VALIDATION_DAYS": "7", "OVERDUE_MODEL_MONITORING_DAYS": "7"}


def model_env(history_days: int) -> dict[str, str]:
    """The OVERDUE_MODEL_* settings a book of `history_days` days is benched with."""
    if history_days >= SHORT_BOOK_DAYS:
        return {}
    return {k: v for k, v in SHORT_BOOK_MODEL_ENV.items() if k not in os.environ}


@contextlib.contextmanager
def model_settings(history_days: int):
    """os.environ with model_env(history_days) while the book is built, restored after."""
    added = model_env(history_days)
    os.environ.update(added)
    try:
        yield added
    finally:
        for key in added:
            os.environ.pop(key, None)


def training_nights(as_of: date, first: date) -> list[date]:
    """The observation nights `matured_labels(as_of)` will pick once account_features exists
    on every history night: computed here so only those are built."""
    from models.dataset import chosen_nights
    from pipelines.lib.model.dataset import _DAYS_PER_MONTH
    from tooling.simulator import one_month_later

    config = settings.model_config()
    if config.horizon_months != 1:
        raise ValueError("bench_night builds training nights for a one-month horizon only")
    span = config.training_window_days + config.validation_days + config.monitoring_days
    earliest = max(first, as_of - timedelta(days=span + _DAYS_PER_MONTH + 3))
    nights = [earliest + timedelta(days=d) for d in range((as_of - earliest).days + 1)]
    matured = [n for n in nights if one_month_later(n) <= as_of]
    return chosen_nights(matured, first, config, span)


def _runs(nights: list[date]) -> list[tuple[date, date]]:
    """Sorted nights as contiguous (start, end) ranges."""
    ranges: list[tuple[date, date]] = []
    for night in sorted(set(nights)):
        if ranges and (night - ranges[-1][1]).days == 1:
            ranges[-1] = (ranges[-1][0], night)
        else:
            ranges.append((night, night))
    return ranges


def _timed(figures: dict, name: str, fn):
    started = time.perf_counter()
    value = fn()
    figures[name] = round(time.perf_counter() - started, 2)
    return value


def _progress(setup: dict, step: str) -> None:
    """A line on stderr per setup step: at 1M accounts the setup takes minutes."""
    sys.stderr.write(f"bench_night setup: {step} done ({setup.get(step, '')} s)\n")
    sys.stderr.flush()


def build_book(home: Path, accounts: int, history_days: int) -> dict:
    """Everything before the measured night; returns the setup's seconds by step."""
    import duckdb

    from models.dataset import NotEnoughData
    from models.registry import ModelRegistry
    from pipelines.lib.collections import tiering
    from pipelines.lib.collections.strategy import load_strategy
    from pipelines.lib.features.nightly_tables import rebuild_nights
    from pipelines.lib.ingest.load import ensure_warehouse
    from pipelines.lib.model.nightly import score_nights
    from pipelines.lib.model.retrain import retrain_night
    from pipelines.lib.sql import bind, render_sql
    from pipelines.lib.warehouse import load_macros, run_sql, transaction
    from tooling.bench.features import FEATURE_TABLES, MILESTONES
    from tooling.bench.report import bench_nights

    if history_days < 2:
        raise ValueError("history_days must be at least 2 (history before the measured night)")
    progress_file = home / BOOK_PROGRESS
    progress = json.loads(progress_file.read_text()) if progress_file.exists() else None
    if not progress or (progress["accounts"], progress["history_days"]) != (accounts,
                                                                            history_days):
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        progress = {"accounts": accounts, "history_days": history_days, "setup": {}, "done": []}
    setup, done = progress["setup"], progress["done"]
    if done:
        sys.stderr.write(f"bench_night setup: continuing the book in {home} after {done}\n")

    def finished(step: str) -> None:
        done.append(step)
        progress_file.write_text(json.dumps(progress, indent=2, default=str))
        _progress(setup, step)

    first, before = _first_night(history_days), NIGHT - timedelta(days=1)
    conn = duckdb.connect(str(home / "warehouse.duckdb"),
                          config=settings.duckdb_config() | {"memory_limit": settings.bench_setup_memory_limit()})
    conn.execute("set enable_progress_bar = false")
    ensure_warehouse(conn)
    if "history" not in done:
        snapshots = render_sql("bench/night_book_snapshots")
        _timed(setup, "history", lambda: conn.execute(
            "insert into account_snapshots by name " + snapshots,
            bind(snapshots, {"accounts": accounts, "first_night": first, "last_night": before,
                             "end_date": NIGHT})))
        customers = ("insert into customers_history select cast($landing_date as date), *, "
                     "cast(null as json), 'bench', row_number() over (), 0 from ("
                     + render_sql("bench/night_book_customers") + ")")
        _timed(setup, "customers", lambda: conn.execute(customers, bind(customers, {
            "accounts": accounts, "changed_share": 0, "seed": 0, "landing_date": first})))
        conn.execute("checkpoint")
        finished("history")

    steady = [before - timedelta(days=d) for d in range(STEADY_NIGHTS) if
              before - timedelta(days=d) >= first]
    champion_as_of = NIGHT - timedelta(days=CHAMPION_AGE_DAYS)
    if "account_features" not in done:
        feature_nights = set(steady) | set(training_nights(NIGHT, first)) | set(
            training_nights(champion_as_of, first))
        started = time.perf_counter()
        for start, end in _runs(list(feature_nights)):
            rebuild_nights(conn, "account_features", "features/account_features", start, end,
                           chunk_days=10)
        setup["account_features"] = round(time.perf_counter() - started, 2)
        setup["account_features_nights"] = len(feature_nights)
        finished("account_features")

    if "feature_state" not in done:
        # last night's carried state, as a book that has been running has it: tonight carries it
        from pipelines.lib.features.feature_state import build_state, ensure_state_tables

        ensure_state_tables(conn)
        _timed(setup, "feature_state", lambda: build_state(conn, before))
        conn.execute("checkpoint")
        finished("feature_state")

    if "report_history" not in done:
        report_nights = [n for n in bench_nights(NIGHT) if first <= n <= before]
        started = time.perf_counter()
        load_macros(conn)
        with transaction(conn):
            for statement in MILESTONES:
                run_sql(conn, statement, {"start_date": first, "end_date": before})
        for table in FEATURE_TABLES[1:]:
            for start, end in _runs(report_nights):
                rebuild_nights(conn, table, f"features/{table}", start, end)
        setup["report_history"] = round(time.perf_counter() - started, 2)
        finished("report_history")

    config = settings.model_config()
    registry = ModelRegistry(home / "registry")
    if "champion_seconds" not in done:
        started = time.perf_counter()
        if registry.champion() is None:
            try:
                result = retrain_night(conn, champion_as_of, registry, config, by="bench setup")
                setup["champion"] = result.version if result.decision.promote else None
            except NotEnoughData as reason:
                setup["champion"] = f"none: {reason}"
        if registry.champion() and steady:
            # last nights' tiers use risk grades as tonight's do, so no account changes tier
            # tonight only because it was scored
            score_nights(conn, registry.load(registry.champion()), config, sorted(steady),
                         reason_nights={before})
        setup["champion_seconds"] = round(time.perf_counter() - started, 2)
        finished("champion_seconds")

    if "collections_history" not in done:
        strategy = load_strategy()
        started = time.perf_counter()
        # night by night, as the nightly job runs them: the 8 nights of a 10M-account book as one
        # range spilled more than the 36 GB of disk left (2026-12-07)
        for night in sorted(steady):
            tiering.build_tiers(conn, strategy, night, night)
            tiering.plan_nights(conn, strategy, night, night)
        setup["collections_history"] = round(time.perf_counter() - started, 2)
        conn.execute("checkpoint")
        finished("collections_history")

    started = time.perf_counter()
    write_landing(conn, home, accounts)
    setup["landing_files"] = round(time.perf_counter() - started, 2)
    conn.close()
    progress_file.unlink()
    return setup


def write_landing(conn, home: Path, accounts: int) -> None:
    """The night's files in landing format v1: every account, the changed customers, no events,
    and what came back for last night's planned contacts (sql/bench/night_book_outcomes.sql)."""
    from pipelines.lib.sql import bind, render_sql
    from tooling.simulator import CONTACT_COLUMNS

    landing = home / "landing"
    for feed in ("account_snapshots", "customers", "contact_events", "contact_outcomes"):
        (landing / feed).mkdir(parents=True, exist_ok=True)
    snapshots = ("select * exclude (extra_columns, source_file, source_row) from ("
                 + render_sql("bench/night_book_snapshots") + ") order by account_id")
    target = landing / "account_snapshots" / f"{NIGHT}.csv"
    conn.execute(f"copy ({snapshots}) to '{target}' (header, delimiter ',')",
                 bind(snapshots, {"accounts": accounts, "first_night": NIGHT,
                                  "last_night": NIGHT, "end_date": NIGHT}))
    customers = render_sql("bench/night_book_customers")
    target = landing / "customers" / f"{NIGHT}.csv"
    conn.execute(f"copy ({customers}) to '{target}' (header, delimiter ',')",
                 bind(customers, {"accounts": accounts, "changed_share": CHANGED_CUSTOMERS,
                                  "seed": NIGHT.toordinal()}))
    (landing / "contact_events" / f"{NIGHT}.csv").write_text(",".join(CONTACT_COLUMNS) + "\n")
    outcomes = render_sql("bench/night_book_outcomes")
    target = landing / "contact_outcomes" / f"{NIGHT}.csv"
    conn.execute(f"copy ({outcomes}) to '{target}' (header, delimiter ',')",
                 bind(outcomes, {"night": NIGHT - timedelta(days=1)}))


# --- the measured night (own process) ---------------------------------------------------------

def night_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("OVERDUE_WAREHOUSE", None)
    return env | {"OVERDUE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster_home"),
                  "OVERDUE_START_DATE": NIGHT.isoformat(), "GX_ANALYTICS_ENABLED": "false"}


def step_windows(records: list) -> dict[str, tuple[float, float]]:
    """Each step's (start, end) epoch seconds from the run's event log."""
    starts, ends = {}, {}
    for record in records:
        event = record.dagster_event
        if event is None or not record.step_key:
            continue
        if event.event_type_value == "STEP_START":
            starts[record.step_key] = record.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            ends[record.step_key] = record.timestamp
    return {step: (start, ends.get(step, start)) for step, start in starts.items()}


def stage_seconds(records: list, windows: dict[str, tuple[float, float]], total: float,
                  wall_start: float) -> tuple[dict, dict]:
    """Seconds per stage from the run's event log; also seconds per step (asset).

    `startup` is from the call of run_nights to the run's start (definitions loaded, job
    resolved); `orchestration` is what remains of the total outside every step.
    """
    materialised = {}
    run_start = None
    for record in records:
        event = record.dagster_event
        if event is None:
            continue
        kind = event.event_type_value
        if kind in ("RUN_START", "PIPELINE_START"):  # RUN_START's value is still PIPELINE_START
            run_start = record.timestamp
        elif kind == "ASSET_MATERIALIZATION" and record.step_key:
            materialised.setdefault(record.step_key, record.timestamp)
    from pipelines.lib.ingest.contracts import feeds

    ingest_steps = set(feeds())
    stages = dict.fromkeys(STAGES, 0.0)
    steps = {}
    for step, (start, end) in windows.items():
        steps[step] = round(end - start, 3)
        if step in ingest_steps and step in materialised:
            stages["ingest"] += materialised[step] - start
            stages["contracts"] += end - materialised[step]
        else:
            stages[ASSET_STAGES.get(step, "other")] += end - start
    stages["startup"] = max(0.0, run_start - wall_start) if run_start else 0.0
    stages["orchestration"] = max(0.0, total - sum(stages.values()))
    return {k: round(v, 3) for k, v in stages.items()}, steps


def measure_night(home: Path, accounts: int, profile: bool = False) -> dict:
    """Run the night through `run_nights` in this process, then its kernels; the figures."""
    from pipelines.cli import _dagster_instance, run_nights

    os.environ.update(night_env(home))
    with RssSampler() as sampler:
        wall_start = time.time()
        started = time.perf_counter()
        if profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(run_nights, NIGHT, NIGHT)
        else:
            run_nights(NIGHT, NIGHT)
        total = time.perf_counter() - started
    if profile:
        profiler.dump_stats(home / "night.prof")
        stats = pstats.Stats(str(home / "night.prof"))
        with (home / "night.prof.txt").open("w") as out:
            stats.stream = out
            stats.sort_stats("cumulative").print_stats(60)
            stats.sort_stats("tottime").print_stats(40)
    # the night's own high-water mark, and its workers as sampled (a short spike may be missed)
    peak = max(_peak_mb(), sampler.peak() or 0.0)
    instance = _dagster_instance()
    run = instance.get_runs(limit=1)[0]
    records = instance.all_logs(run.run_id)
    windows = step_windows(records)
    stages, steps = stage_seconds(records, windows, total, wall_start)
    step_peaks = {step: sampler.peak_between(start, end) for step, (start, end) in windows.items()}
    kernels = measure_kernels(home)
    return {"total_s": round(total, 2), "peak_rss_mb": peak, "stages": stages, "steps": steps,
            "step_peak_rss_mb": step_peaks, "sampled_peak_rss_mb": sampler.peak(),
            "step_windows": windows,
            "kernels": kernels, "run_id": run.run_id, "profile": profile}


def measure_kernels(home: Path) -> dict:
    """Each raw kernel of the night, timed alone on data already in memory or on disk."""
    import duckdb
    import jinja2
    import xgboost as xgb

    from models.dataset import NotEnoughData, split_out_of_time
    from models.features import FEATURE_NAMES, feature_array
    from models.train import _dmatrix, monotone_constraints
    from pipelines.lib.collections.batch import fetch_contacts
    from pipelines.lib.collections.rendering import LETTERS_DIR, PARTS, Renderer, template_name
    from pipelines.lib.collections.strategy import load_strategy
    from pipelines.lib.features.nightly_tables import customer_ranges, ranged_statements
    from pipelines.lib.model.dataset import features_for_night, matured_labels
    from pipelines.lib.sql import bind, render_sql
    from pipelines.lib.warehouse import load_macros

    kernels: dict = {}
    path = home / "landing" / "account_snapshots" / f"{NIGHT}.csv"
    conn = duckdb.connect(str(settings.warehouse_path()), config=settings.duckdb_config())
    conn.execute("set enable_progress_bar = false")

    def replace():
        conn.execute("begin transaction")
        conn.execute("delete from account_snapshots where snapshot_date = $night", {"night": NIGHT})
        conn.execute("insert into account_snapshots by name select *, 'kernel' as source_file, "
                     "row_number() over () as source_row from read_csv($path, header = true)", {"path": str(path)})
        conn.execute("commit")

    _timed(kernels, "partition_replace", replace)

    scratch = duckdb.connect()
    scratch.execute("create table snapshots as select * from read_csv($path, header = true)",
                    {"path": str(path)})
    checks = render_sql("bench/contract_kernel")
    _timed(kernels, "contract_checks",
           lambda: scratch.execute(checks, {"night": NIGHT}).fetchall())
    scratch.close()

    load_macros(conn)

    def feature_query():
        # the night's own statements: one per customer range (one up to ~1M accounts)
        nights = {"start_date": NIGHT, "end_date": NIGHT}
        conn.execute("create or replace temp table kernel_features as "
                     "select * from account_features limit 0")
        ranges = customer_ranges(conn, NIGHT, NIGHT)
        for insert, bounds in ranged_statements("features/account_features", "kernel_features",
                                                ranges):
            conn.execute(insert, bind(insert, bounds | nights))

    _timed(kernels, "feature_query", feature_query)
    # what a carried night cannot avoid reading: tonight's snapshot and last night's state
    state_read = render_sql("bench/feature_state_kernel")
    _timed(kernels, "snapshot_and_state_read", lambda: conn.execute(state_read, bind(
        state_read, {"night": NIGHT, "previous_night": NIGHT - timedelta(days=1)})).fetchall())

    config = settings.model_config()
    try:
        train, validation = split_out_of_time(matured_labels(conn, NIGHT, config), config)
    except NotEnoughData:
        train = validation = None
    tonight = features_for_night(conn, NIGHT)
    booster = None
    if train is not None and train["label"].nunique() > 1:
        params = config.xgb_params() | {"monotone_constraints": "(" + ",".join(
            str(c) for c in monotone_constraints(FEATURE_NAMES)) + ")"}
        dtrain = _dmatrix(train, FEATURE_NAMES, config.nthread)
        dvalidation = _dmatrix(validation, FEATURE_NAMES, config.nthread)
        booster = _timed(kernels, "xgboost_train", lambda: xgb.train(
            params, dtrain, num_boost_round=config.num_boost_round,
            evals=[(dvalidation, "validation")],
            early_stopping_rounds=config.early_stopping_rounds, verbose_eval=False))
        kernels["xgboost_train_rows"] = len(train)
        kernels["xgboost_trees"] = int(booster.best_iteration) + 1
        booster = booster[: booster.best_iteration + 1]
        matrix = xgb.DMatrix(feature_array(tonight, FEATURE_NAMES, dtype="float32"),
                             feature_names=list(FEATURE_NAMES), nthread=config.nthread)
        _timed(kernels, "xgboost_predict", lambda: booster.predict(matrix))
    else:
        kernels["xgboost_train"] = kernels["xgboost_predict"] = 0.0

    strategy = load_strategy()
    contacts = [row for row in fetch_contacts(conn, strategy, NIGHT) if row["channel"] in PARTS]
    conn.close()
    renderer = Renderer(strategy)
    raw = jinja2.Environment(loader=jinja2.FileSystemLoader(LETTERS_DIR), autoescape=True)
    contexts = [dict(row, lender=renderer.lender(row["jurisdiction"], row["locale"]),
                     opt_out=renderer.opt_out(row["jurisdiction"], row["channel"], row["locale"]))
                for row in contacts]
    templates: dict = {}
    for row in contacts:
        for part in PARTS[row["channel"]]:
            key = (row["channel"], row["template"], row["locale"], part)
            if key not in templates:
                templates[key] = raw.get_template(template_name(*key))

    def render():
        for row, context in zip(contacts, contexts, strict=True):
            for part in PARTS[row["channel"]]:
                templates[(row["channel"], row["template"], row["locale"], part)].render(context)

    _timed(kernels, "jinja2_render", render)
    kernels["contacts_rendered"] = len(contacts)
    return kernels


# --- a workload, the record, the table --------------------------------------------------------

def built_book(home: Path, accounts: int, history_days: int) -> dict | None:
    """The setup record of a book built earlier under `home`, if it can be measured as is."""
    marker = home / BOOK_MARKER
    if not marker.exists():
        return None
    book = json.loads(marker.read_text())
    if (book["accounts"], book["history_days"]) != (accounts, history_days):
        raise ValueError(f"{home} holds a book of {book['accounts']:,} accounts x "
                         f"{book['history_days']} days, not {accounts:,} x {history_days}")
    if (home / "night.log").exists():
        raise ValueError(f"the night of the book in {home} has already run; measuring it again "
                         "would time a rerun. Build it again (without --reuse-book).")
    return book


def build(home: Path, accounts: int, history_days: int) -> dict:
    """Build the book under `home` and mark it complete; its setup record."""
    started = time.perf_counter()
    with model_settings(history_days) as model:
        setup = build_book(home, accounts, history_days)
    book = {"accounts": accounts, "history_days": history_days, "setup": setup,
            "model_env": model,
            "setup_s": round(time.perf_counter() - started, 1)}
    (home / BOOK_MARKER).write_text(json.dumps(book, indent=2, default=str))
    return book


def copy_book(source: Path, target: Path, accounts: int, history_days: int) -> None:
    """`target` as a copy of the book under `source` before its night (built there when there
    is none, or when its night has run)."""
    try:
        book = built_book(source, accounts, history_days)
    except ValueError:
        book = None
    if book is None:
        build(source, accounts, history_days)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)


def run(home: Path, accounts: int, history_days: int = 90, profile: bool = False,
        reuse_book: bool = False, env: dict | None = None) -> dict:
    """Build the book under `home` (or reuse one built by --book-only), run its night in a
    process of its own (with `env` over the night's environment); the figures."""
    home = Path(home).resolve()
    book = built_book(home, accounts, history_days) if reuse_book else None
    if book is None:
        book = build(home, accounts, history_days)
    setup, setup_seconds = book["setup"], book["setup_s"]
    command = [sys.executable, "-m", "tooling.bench.night", "--night-of", str(home),
               "--accounts", str(accounts)] + (["--profile"] if profile else [])
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=night_env(home) | model_env(history_days) | (env or {}),
                             cwd=settings.REPO_ROOT)
    with RssSampler(every_s=0.05, pid=child.pid) as watcher:
        stdout, stderr = child.communicate()
    (home / "night.log").write_text(stdout + stderr)
    if child.returncode != 0:
        raise RuntimeError(f"the night failed (log: {home / 'night.log'}): "
                           f"{stderr.strip()[-3000:]}")
    night = json.loads(stdout.strip().splitlines()[-1])
    windows = night.pop("step_windows")
    # watched from this process every 50 ms: the night's own sampler thread needs its GIL
    watched = {step: watcher.peak_between(start, end) for step, (start, end) in windows.items()}
    rises = {step: watcher.high_water_rise(start, end) for step, (start, end) in windows.items()}
    night["step_peak_rss_mb"] = {step: max(filter(None, (watched[step], own)), default=None)
                                 for step, own in night["step_peak_rss_mb"].items()}
    night["peak_rss_mb"] = max(night["peak_rss_mb"], watcher.peak() or 0.0)
    kernels = night["kernels"]
    kernels_s = round(sum(kernels[k] for k in KERNEL_OF.values()), 2)
    return {
        "accounts": accounts,
        "history_days": history_days,
        "total_s": night["total_s"],
        "kernels_s": kernels_s,
        "peak_rss_mb": night["peak_rss_mb"],
        "stages": night["stages"],
        "rows_per_s": round(accounts / night["total_s"]) if night["total_s"] else None,
        "pipeline_over_kernels": round(night["total_s"] / kernels_s, 2) if kernels_s else None,
        "kernels": kernels,
        "steps": night["steps"],
        "step_peak_rss_mb": night["step_peak_rss_mb"],
        "sampled_peak_rss_mb": night["sampled_peak_rss_mb"],
        "watched_peak_rss_mb": watcher.peak(),
        "step_high_water_rise_mb": {k: v for k, v in rises.items() if v},
        "setup_s": round(setup_seconds, 1),
        "setup": setup,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "profiled": profile,
        "home": str(home),
    }


def table(record: dict) -> str:
    """The record as the text `make bench` prints."""
    lines = [(f"overdue end-to-end night {NIGHT} ({record['machine']}; measured "
              f"{record['measured_at']})")]
    for name, w in record["workloads"].items():
        target = TARGETS.get(name, {})
        verdict = []
        if "total_s" in target:
            verdict.append(f"total <= {target['total_s']} s "
                           f"{'ok' if w['total_s'] <= target['total_s'] else 'MISSED'}")
        if "of" in target and target["of"][0] in record["workloads"]:
            other, most = target["of"]
            times = w["total_s"] / record["workloads"][other]["total_s"]
            verdict.append(f"{times:.2f}x {other} (<= {most}x "
                           f"{'ok' if times <= most else 'MISSED'})")
        if "ratio" in target and w["pipeline_over_kernels"]:
            verdict.append(f"<= {target['ratio']}x kernels "
                           f"{'ok' if w['pipeline_over_kernels'] <= target['ratio'] else 'MISSED'}")
        if "peak_rss_mb" in target:
            verdict.append(f"peak RSS <= {target['peak_rss_mb'] // 1024} GB "
                           f"{'ok' if w['peak_rss_mb'] <= target['peak_rss_mb'] else 'MISSED'}")
        lines.append(
            f"\n{name}: {w['accounts']:,} accounts x {w['history_days']} days; total "
            f"{w['total_s']:.1f} s ({w['rows_per_s']:,} rows/s), kernels {w['kernels_s']:.1f} s, "
            f"pipeline / kernels = {w['pipeline_over_kernels']}, peak RSS "
            f"{w['peak_rss_mb']:,.0f} MB; load average {w['load_average']}; setup "
            f"{w['setup_s']:.0f} s (not measured)")
        if verdict:
            lines.append("  targets: " + "; ".join(verdict))
        lines.append(f"  {'stage':<22}{'seconds':>9}{'share':>8}{'kernel':>18}{'seconds':>9}"
                     f"{'ratio':>8}")
        for stage, seconds in w["stages"].items():
            kernel = KERNEL_OF.get(stage)
            k_seconds = w["kernels"].get(kernel) if kernel else None
            ratio = f"{seconds / k_seconds:.1f}" if k_seconds else "-"
            share = seconds / w["total_s"] if w["total_s"] else 0
            lines.append(f"  {stage:<22}{seconds:>9.2f}{share:>8.0%}{kernel or '-':>18}"
                         f"{k_seconds if k_seconds is not None else '-':>9}{ratio:>8}")
        by_step = sorted(((rss, step) for step, rss in w.get("step_peak_rss_mb", {}).items()
                          if rss is not None), reverse=True)[:6]
        if by_step:
            lines.append("  peak RSS by step (sampled, MB): "
                         + ", ".join(f"{step} {rss:,.0f}" for rss, step in by_step))
        rises = sorted(((mb, step) for step, mb in w.get("step_high_water_rise_mb", {}).items()),
                       reverse=True)[:4]
        if rises:
            lines.append("  the night process's high-water mark rose in (MB): "
                         + ", ".join(f"{step} +{mb:,.0f}" for mb, step in rises))
        if w["stages"].get("letters") is not None:
            lines.append(f"  contacts rendered by the kernel: {w['kernels']['contacts_rendered']:,}"
                         f"; XGBoost kernel on {w['kernels'].get('xgboost_train_rows', 0):,} rows,"
                         f" {w['kernels'].get('xgboost_trees', 0)} trees")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.bench.night", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--history-days", type=int, default=90)
    parser.add_argument("--workloads", help="comma-separated of " + ", ".join(WORKLOADS)
                        + " (W10M is not run unless named); overrides --accounts/--history-days")
    parser.add_argument("--home", help="where the books are built (default "
                        "$OVERDUE_HOME/bench/night); one folder per workload")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the night; stats in <workload home>/night.prof.txt")
    parser.add_argument("--book-only", action="store_true",
                        help="build each workload's book and stop (the night is not run)")
    parser.add_argument("--reuse-book", action="store_true",
                        help="measure the night on a book --book-only built, if there is one")
    parser.add_argument("--night-of", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.night_of:
        figures = measure_night(Path(args.night_of), args.accounts, args.profile)
        sys.stdout.write(json.dumps(figures) + "\n")
        return 0
    if args.workloads:
        unknown = [w for w in args.workloads.split(",") if w not in WORKLOADS]
        if unknown:
            parser.error(f"unknown workload(s) {unknown}; known: {list(WORKLOADS)}")
        chosen = {w: WORKLOADS[w] for w in args.workloads.split(",")}
    else:
        named = {v: k for k, v in WORKLOADS.items()}
        key = (args.accounts, args.history_days)
        chosen = {named.get(key, f"{args.accounts}x{args.history_days}"): key}
    bench = settings.overdue_home() / "bench"
    root = Path(args.home) if args.home else bench / "night"
    record = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": _machine(), "workloads": {}}
    if args.book_only:
        for name, (accounts, days) in chosen.items():
            book = build((root / name).resolve(), accounts, days)
            sys.stdout.write(f"{name}: book built in {root / name} ({book['setup_s']:.0f} s)\n")
        return 0
    copied_from = set()
    for name, source in NO_RETRAIN.items():
        if name in chosen:
            copy_book((root / source).resolve(), (root / name).resolve(), *chosen[name])
            copied_from.add(source)
    for name, (accounts, days) in chosen.items():
        reuse = args.reuse_book or name in NO_RETRAIN or name in copied_from
        record["workloads"][name] = run(root / name, accounts, days, args.profile, reuse,
                                        NO_RETRAIN_ENV if name in NO_RETRAIN else None)
    bench.mkdir(parents=True, exist_ok=True)
    out = bench / f"night-{record['measured_at'].replace(':', '')}.json"
    out.write_text(json.dumps(record, indent=2, default=str))
    sys.stdout.write(table(record) + f"written {out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
