"""Reliability harness: run `overdue` as a separate process, kill it, and fingerprint a home.

Shared by the fast tests in this folder and by `scripts/chaos` (the long trials). Plain Python,
no pytest import, so the script can use it too.

A fingerprint is what must be equal between a night that was killed and rerun and a night that
ran once cleanly in another home: one sha256 per warehouse table (rows ordered by every column)
and one per output file under `$OVERDUE_HOME/out/`. The home's own path is replaced by
`$OVERDUE_HOME` before hashing, since the two homes differ by path only. Values that are
legitimately different from run to run are listed below with the reason; nothing else is left out.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
OVERDUE = Path(sys.executable).with_name("overdue")

# Columns written with the wall clock of the run that wrote the row. A rerun after a kill writes
# them again at a later time, so they cannot be equal to a clean run's; every other column must be.
RUN_DEPENDENT_COLUMNS = {
    "observation_label_nights": {"built_at": "when the night's label pass was kept"},
    "ingest_log": {"ingested_at": "when the file was loaded (datetime.now in lib/ingest.py)"},
    "contact_history": {
        "planned_at": "when the contact row was first written (now() in SQL)",
        "updated_at": "when its status last changed (now() in SQL)",
    },
    "volume_checks": {
        "run_id": "the Dagster run that judged the night's volume gate",
        "checked_at": "when it judged it (datetime.now in lib/ingest/volume.py)",
    },
    "account_feature_state_night": {
        "built_at": "when the night's carried state was written (lib/features/feature_state.py)",
    },
    "volume_acceptances": {
        "run_id": "the Dagster run that carried the operator's acceptance",
        "accepted_at": "when it recorded it",
    },
}

# Output files that embed the time they were made, found by comparing two clean runs of the same
# night: the risk report's "Generated: <UTC minute>" line (HTML and PDF), in the HTML the
# `<dc:date>` that matplotlib writes into every inline SVG chart, and the model registry's event
# log (each event's time and the Dagster run that promoted a model), which the report shows.
# These parts are cut out before hashing; a report PDF is compared by its text (pdftotext) with
# runs of spaces made one, since the PDF's own streams are compressed and carry those parts too
# and a table's column widths follow the width of its cells' text. Everything else must be equal.
GENERATED_TIME = re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d UTC")  # "Generated:" in any language
SVG_DATE = re.compile(rb"<dc:date>[^<]*</dc:date>")
EVENT_TIME = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
RUN_ID = re.compile(rb"dagster run [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _without_times(data: bytes) -> bytes:
    data = GENERATED_TIME.sub(b"<generated time>", data)
    return RUN_ID.sub(b"dagster run <run>", EVENT_TIME.sub(b"<event time>", data))


def _report_html(data: bytes) -> bytes:
    return SVG_DATE.sub(b"<dc:date/>", _without_times(data))


def _report_pdf(path: Path) -> bytes:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          check=True).stdout
    return b"pdf text:" + re.sub(rb"[ \t]+", b" ", _without_times(text))


HOME_TOKEN = "$OVERDUE_HOME"

# The fast tests run every stage but the risk report (about 15 s of charts and PDF per night on a
# tiny book); `scripts/chaos` runs whole nights.
FAST_GROUPS = ["ingest", "features", "model", "collections"]


def overdue_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment for an `overdue` process working in `home` (nothing inherited of ours)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OVERDUE_", "DAGSTER_", "PYTEST_"))}
    env |= {"OVERDUE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster_home"),
            "GX_ANALYTICS_ENABLED": "false", "PYTHONUNBUFFERED": "1"}
    for key in ("OVERDUE_START_DATE", "OVERDUE_REPORT_LANGUAGES"):
        if key in os.environ:
            env[key] = os.environ[key]
    env |= extra
    return env


def start_overdue(home: Path, *args: str, **extra_env: str) -> subprocess.Popen:
    """`overdue ARGS` as its own process group (so a kill reaches nothing else of ours)."""
    log = (home / "overdue.log").open("ab")
    return subprocess.Popen([str(OVERDUE), *args], cwd=REPO, env=overdue_env(home, **extra_env),
                            stdout=log, stderr=subprocess.PIPE, start_new_session=True)


def run_overdue(home: Path, *args: str, timeout: float = 600, **extra_env: str):
    """Run `overdue ARGS` to the end: (exit code, stderr text)."""
    process = start_overdue(home, *args, **extra_env)
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err.decode("utf-8", "replace")


def night_args(night: date, groups: list[str] | None = None) -> list[str]:
    return ["run", "--date", night.isoformat()] + (["--groups", *groups] if groups else [])


def copy_home(template: Path, target: Path) -> Path:
    """A copy of a prepared home; the warehouse and the Dagster history are plain files. A split
    book's run history is in its own PostgreSQL server, which is not copied: the copy's first
    `overdue run` starts a server of its own (an empty history) and writes its dagster.yaml."""
    if target.exists():
        shutil.rmtree(target)
    split = is_split(template)
    shutil.copytree(template, target, symlinks=True, ignore=lambda folder, names: [
        name for name in names if split and Path(folder) == template
        and name in ("postgres", "dagster_home")])
    return target


def is_split(home: Path) -> bool:
    return (home / "shards").is_dir()


def stop_postgres(home: Path) -> None:
    """Stop the home's own PostgreSQL server (scripts/postgres), if it has one running."""
    subprocess.run([str(REPO / "scripts" / "postgres"), "stop"], check=False, capture_output=True,
                   env={**os.environ, "OVERDUE_HOME": str(home)})


FINAL_STATUSES = ("SUCCESS", "FAILURE", "CANCELED")


def split_runs(home: Path, night: date) -> list[tuple[str, str, str, str]]:
    """(run id, job, partition, status) of every run of the night in a split home's history."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        return [(run.run_id, run.job_name, run.tags.get("dagster/partition", ""), run.status.value)
                for run in instance.get_runs()
                if run.tags.get("dagster/partition", "").split("|")[0] == night.isoformat()]


def unfinished_runs(home: Path, night: date) -> list[tuple[str, str, str, str]]:
    """Runs of the night not ended (queued, starting, started, canceling) in a split home."""
    return [run for run in split_runs(home, night) if run[3] not in FINAL_STATUSES]


def started_run(home: Path, night: date, job_name: str, alive, timeout_s: float = 600):
    """(run id, worker pid) of the first run of `job_name` for the night that is STARTED and has
    begun a step, from the run history and its event log (the worker reports its pid there);
    None when `alive()` turns false or the time is up first."""
    from dagster import (
        DagsterError,
        DagsterEventType,
        DagsterInstance,
        DagsterRunStatus,
        RunsFilter,
    )
    from sqlalchemy.exc import SQLAlchemyError

    deadline = time.monotonic() + timeout_s
    instance = None
    try:
        while alive() and time.monotonic() < deadline:
            config = home / "dagster_home" / "dagster.yaml"
            try:
                if "postgres" not in (config.read_text() if config.exists() else ""):
                    raise FileNotFoundError(config)  # the command has not written it yet
                instance = instance or DagsterInstance.from_config(str(home / "dagster_home"))
                runs = instance.get_runs(RunsFilter(job_name=job_name,
                                                    statuses=[DagsterRunStatus.STARTED]))
            except (OSError, DagsterError, SQLAlchemyError):  # its server not started yet
                time.sleep(0.2)
                continue
            for run in runs:
                if run.tags.get("dagster/partition", "").split("|")[0] != night.isoformat():
                    continue
                records = instance.get_records_for_run(run.run_id, of_type={
                    DagsterEventType.ENGINE_EVENT, DagsterEventType.STEP_START}).records
                events = [r.event_log_entry.dagster_event for r in records]
                pids = [e.event_specific_data.metadata["pid"].text for e in events
                        if e.event_type == DagsterEventType.ENGINE_EVENT and e.event_specific_data
                        and "pid" in (e.event_specific_data.metadata or {})]
                if pids and any(e.event_type == DagsterEventType.STEP_START for e in events):
                    return run.run_id, int(pids[0])
            time.sleep(0.2)
        return None
    finally:
        if instance is not None:
            instance.dispose()


def _table_rows(conn, table: str, home: Path, skip: set[str]) -> list[str]:
    columns = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'main' and table_name = ? order by ordinal_position",
        [table]).fetchall()
    kept, params = [], []
    for name, kind in columns:
        if name in skip:
            continue
        quoted = '"' + name.replace('"', '""') + '"'
        if kind == "VARCHAR":
            kept.append(f"replace({quoted}, ?, ?)")
            params += [str(home), HOME_TOKEN]
        else:
            kept.append(quoted)
    table_name = '"' + table.replace('"', '""') + '"'
    cursor = conn.execute(f"select {', '.join(kept)} from {table_name}", params)
    rows = []
    while batch := cursor.fetchmany(5000):
        rows += map(repr, batch)
    return rows


def _base_tables(conn) -> list[str]:
    return [t for (t,) in conn.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'main' and table_type = 'BASE TABLE' order by 1").fetchall()]


# A split book's tables hold the one-warehouse rows, each in its customer's shard; what differs is
# only where a row is kept and which shard it names. Left out of its comparison with the same
# book run as one warehouse: each shard's own record of its run (one row per shard where the
# one warehouse has one), and the copies of reference feeds every shard loads whole (one is kept).
SHARD_RUN_RECORDS = {
    "ingest_log": "each shard logs the file it read, with its own rows' counts",
    "volume_checks": "each shard's volume gate judged on its own rows",
    "scoring_status": "each shard records the model it scored with",
    "account_feature_state_night": "each shard records its carried state's night",
}
SHARD_COLUMN = "shard"


def warehouse_fingerprint(home: Path) -> dict[str, str]:
    """sha256 and row count of every base table of the home's warehouse (read-only); for a book
    split into shards, of every table's rows over the book's and every shard's file."""
    from pipelines.lib.exchange import REFERENCE_TABLES

    files = [home / "warehouse.duckdb", *sorted((home / "shards").glob("*/warehouse.duckdb"))]
    split = len(files) > 1
    rows: dict[str, list[str]] = {}
    for index, path in enumerate(files):
        with duckdb.connect(str(path), read_only=True) as conn:
            for table in _base_tables(conn):
                if split and table in REFERENCE_TABLES and index > 1:
                    continue
                skip = set(RUN_DEPENDENT_COLUMNS.get(table, {})) | {SHARD_COLUMN}
                rows.setdefault(table, []).extend(_table_rows(conn, table, home, skip))
    result = {}
    for table, found in sorted(rows.items()):
        digest = hashlib.sha256()
        for row in sorted(found):
            digest.update(row.encode())
        result[table] = f"{digest.hexdigest()[:16]} ({len(found)} rows)"
    return result


def output_fingerprint(home: Path) -> dict[str, str]:
    """sha256 of every file under out/, home path replaced, times cut out of the reports and
    of the purge records."""
    out = home / "out"
    result = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()) if out.is_dir() else []:
        name = path.relative_to(out).as_posix()
        if fnmatch.fnmatch(path.name, "risk_report*.pdf"):
            data = _report_pdf(path)
        elif fnmatch.fnmatch(path.name, "risk_report*.html"):
            data = _report_html(path.read_bytes())
        elif path.name == "purged.json":  # letters' and placements' purge record: when it ran
            record = json.loads(path.read_bytes())
            record.pop("purged_at", None)
            data = json.dumps(record, sort_keys=True).encode()
        else:
            data = path.read_bytes()
        data = data.replace(str(home).encode(), HOME_TOKEN.encode())
        result[name] = hashlib.sha256(data).hexdigest()[:16]
    return result


def registry_fingerprint(home: Path) -> dict[str, str]:
    """Each registered version's model file hash: one version per distinct model."""
    registry = home / "registry"
    return {model.parent.name: hashlib.sha256(model.read_bytes()).hexdigest()[:16]
            for model in sorted(registry.glob("v*/model.json"))}


def fingerprint(home: Path) -> dict[str, dict[str, str]]:
    return {"tables": warehouse_fingerprint(home), "files": output_fingerprint(home),
            "registry": registry_fingerprint(home)}


def differences(a: dict, b: dict) -> list[str]:
    """What differs between two fingerprints, one line per table or file."""
    lines = []
    for part in ("tables", "files", "registry"):
        for key in sorted(set(a[part]) | set(b[part])):
            if a[part].get(key) != b[part].get(key):
                lines.append(f"{part}/{key}: {a[part].get(key)} != {b[part].get(key)}")
    return lines


def duplicate_contacts(home: Path) -> list[tuple]:
    """Idempotency keys planned more than once (contact_history), empty when all are unique."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        if not conn.execute("select count(*) from information_schema.tables "
                            "where table_name = 'contact_history'").fetchone()[0]:
            return []
        return conn.execute("select idempotency_key, count(*) from contact_history "
                            "group by 1 having count(*) > 1").fetchall()


def duplicate_models(home: Path) -> list[list[str]]:
    """Registry versions holding a byte-identical model (the same data registered twice)."""
    by_hash: dict[str, list[str]] = {}
    for version, digest in registry_fingerprint(home).items():
        by_hash.setdefault(digest, []).append(version)
    return [versions for versions in by_hash.values() if len(versions) > 1]


@dataclass
class Trial:
    seed: int
    delay_s: float
    killed: bool
    killed_exit: int | None
    rerun_exit: int
    rerun_error: str
    differences: list[str] = field(default_factory=list)
    duplicate_contacts: list = field(default_factory=list)
    duplicate_models: list = field(default_factory=list)
    seconds: float = 0.0
    finished_after_s: float | None = None  # when the first run ended on its own before the kill
    target: str = "command"  # what was killed: the `overdue run` command or a shard's run worker
    killed_run: str | None = None  # the shard run whose worker was killed
    first_error: str = ""  # what the command said when one of its shard runs' worker was killed
    unfinished_runs: list = field(default_factory=list)  # runs of the night not ended after all

    @property
    def ok(self) -> bool:
        named = (self.target != "shard worker" or not self.killed
                 or (self.killed_exit == 1 and self.killed_run in self.first_error))
        return (self.rerun_exit == 0 and not self.differences and not self.duplicate_contacts
                and not self.duplicate_models and not self.unfinished_runs and named)

    def line(self) -> str:
        state = "OK" if self.ok else "FAIL"
        what = (f"killed at {self.delay_s:.1f}s" if self.killed
                else f"finished before {self.delay_s:.1f}s (exit {self.killed_exit})")
        if self.target == "shard worker" and self.killed:
            what = (f"shard run {self.killed_run} worker killed at {self.delay_s:.1f}s or later, "
                    f"command exit {self.killed_exit}: {self.first_error.strip()[-300:]}")
        last = (self.rerun_error.strip().splitlines() or [""])[-1] if self.rerun_exit else ""
        extra = "" if self.ok else (f"; rerun exit {self.rerun_exit} {last}; "
                                    f"diff {self.differences[:8]}; dup contacts "
                                    f"{self.duplicate_contacts[:5]}; dup models "
                                    f"{self.duplicate_models}; unfinished runs "
                                    f"{self.unfinished_runs}")
        return f"trial seed={self.seed}: {what}, rerun {self.seconds:.0f}s: {state}{extra}"


def kill_trial(template: Path, work: Path, night: date, seed: int, max_delay_s: float,
               reference: dict, groups: list[str] | None = None,
               min_delay_s: float = 1.0, env: dict[str, str] | None = None,
               target: str = "command") -> Trial:
    """Copy `template` to `work`, start the night, SIGKILL it after a seeded random delay, rerun
    it to the end and compare with `reference` (the fingerprint of a clean run). On a split book
    `target="shard worker"` kills instead, after the delay, the worker process of the next shard
    run that has begun a step, and lets the command go on: it must fail naming that run."""
    delay = random.Random(seed).uniform(min_delay_s, max_delay_s)
    copy_home(template, work)
    process = start_overdue(work, *night_args(night, groups), **(env or {}))
    launched = time.monotonic()
    finished_after = None
    killed_run, first_error = None, ""
    try:
        process.wait(timeout=delay)
        killed, killed_exit = False, process.returncode
        finished_after = time.monotonic() - launched
    except subprocess.TimeoutExpired:
        if target == "shard worker":
            found = started_run(work, night, "nightly_shard", lambda: process.poll() is None)
            killed = found is not None
            if killed:
                killed_run, pid = found
                os.kill(pid, signal.SIGKILL)
            _, err = process.communicate(timeout=900)
            killed_exit, first_error = process.returncode, err.decode("utf-8", "replace")
            if not killed:
                finished_after = time.monotonic() - launched
        else:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            killed, killed_exit = True, None
    process.stderr.close()
    started = time.monotonic()
    code, err = run_overdue(work, *night_args(night, groups), **(env or {}))
    trial = Trial(seed, delay, killed, killed_exit, code, err,
                  seconds=time.monotonic() - started, finished_after_s=finished_after,
                  target=target, killed_run=killed_run, first_error=first_error)
    if code == 0:
        trial.differences = differences(reference, fingerprint(work))
        trial.duplicate_contacts = duplicate_contacts(work)
        trial.duplicate_models = duplicate_models(work)
    if is_split(work):
        trial.unfinished_runs = unfinished_runs(work, night)
        stop_postgres(work)
    return trial


def write_report(path: Path, trials: list[Trial]) -> None:
    path.write_text(json.dumps([t.__dict__ | {"ok": t.ok} for t in trials], indent=1,
                               default=str))
