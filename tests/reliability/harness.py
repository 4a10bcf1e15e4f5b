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
    """A copy of a prepared home; the warehouse and the Dagster history are plain files."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(template, target, symlinks=True)
    return target


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

    @property
    def ok(self) -> bool:
        return (self.rerun_exit == 0 and not self.differences and not self.duplicate_contacts
                and not self.duplicate_models)

    def line(self) -> str:
        state = "OK" if self.ok else "FAIL"
        what = (f"killed at {self.delay_s:.1f}s" if self.killed
                else f"finished before {self.delay_s:.1f}s (exit {self.killed_exit})")
        last = (self.rerun_error.strip().splitlines() or [""])[-1] if self.rerun_exit else ""
        extra = "" if self.ok else (f"; rerun exit {self.rerun_exit} {last}; "
                                    f"diff {self.differences[:8]}; dup contacts "
                                    f"{self.duplicate_contacts[:5]}; dup models "
                                    f"{self.duplicate_models}")
        return f"trial seed={self.seed}: {what}, rerun {self.seconds:.0f}s: {state}{extra}"


def kill_trial(template: Path, work: Path, night: date, seed: int, max_delay_s: float,
               reference: dict, groups: list[str] | None = None,
               min_delay_s: float = 1.0, env: dict[str, str] | None = None) -> Trial:
    """Copy `template` to `work`, start the night, SIGKILL it after a seeded random delay, rerun
    it to the end and compare with `reference` (the fingerprint of a clean run)."""
    delay = random.Random(seed).uniform(min_delay_s, max_delay_s)
    copy_home(template, work)
    process = start_overdue(work, *night_args(night, groups), **(env or {}))
    launched = time.monotonic()
    finished_after = None
    try:
        process.wait(timeout=delay)
        killed, killed_exit = False, process.returncode
        finished_after = time.monotonic() - launched
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        killed, killed_exit = True, None
    process.stderr.close()
    started = time.monotonic()
    code, err = run_overdue(work, *night_args(night, groups), **(env or {}))
    trial = Trial(seed, delay, killed, killed_exit, code, err,
                  seconds=time.monotonic() - started, finished_after_s=finished_after)
    if code == 0:
        trial.differences = differences(reference, fingerprint(work))
        trial.duplicate_contacts = duplicate_contacts(work)
        trial.duplicate_models = duplicate_models(work)
    return trial


def write_report(path: Path, trials: list[Trial]) -> None:
    path.write_text(json.dumps([t.__dict__ | {"ok": t.ok} for t in trials], indent=1,
                               default=str))
