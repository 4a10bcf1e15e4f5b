"""A book split into customer shards gives the one-warehouse night's tables, letters and report.

The same simulated book is run night by night by `overdue` as one warehouse and as three shards
(`OVERDUE_SHARDS=3`: per-shard steps in their shard's file, night-level steps over every shard's
published tables; the shards' runs launched at once by the Dagster daemon, the run history in a
local PostgreSQL). Every table's rows over the book's and the shards' files must equal the one
warehouse's (the shard column aside), and so must every letter file and report.
"""

import os
import subprocess
from datetime import timedelta

import duckdb
import pytest

from pipelines.lib.shards import shard_of
from tests.reliability.harness import (
    REPO,
    SHARD_RUN_RECORDS,
    copy_home,
    output_fingerprint,
    run_overdue,
    warehouse_fingerprint,
)
from tooling.simulator import simulate

NIGHTS = 3
SHARDS = 3


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    root = tmp_path_factory.mktemp("split")
    template = root / "template"
    end = simulate(template, accounts=240, days=NIGHTS, seed=23).end_date
    runs = {}
    for name, shards in (("one", "1"), ("split", str(SHARDS))):
        home = copy_home(template, root / name)
        for offset in range(NIGHTS - 1, -1, -1):
            night = end - timedelta(days=offset)
            code, err = run_overdue(home, "run", "--date", night.isoformat(),
                                    OVERDUE_SHARDS=shards, OVERDUE_REPORT_LANGUAGES="en")
            assert code == 0, f"{name} {night}: {err[-3000:]}"
        runs[name] = home
    yield runs
    subprocess.run([str(REPO / "scripts" / "postgres"), "stop"], check=False,
                   env={**os.environ, "OVERDUE_HOME": str(runs["split"])})


def test_every_table_holds_the_one_warehouse_rows(homes):
    one, split = (warehouse_fingerprint(homes[name]) for name in ("one", "split"))
    assert set(one) <= set(split)
    differing = {table: (one[table], split[table]) for table in one
                 if table not in SHARD_RUN_RECORDS and one[table] != split[table]}
    assert not differing
    assert int(one["account_snapshots"].split("(")[1].split()[0]) > 600


def test_each_shard_keeps_only_its_customers(homes):
    files = sorted((homes["split"] / "shards").glob("*/warehouse.duckdb"))
    assert len(files) == SHARDS
    seen = set()
    for index, path in enumerate(files):
        with duckdb.connect(str(path), read_only=True) as conn:
            rows = conn.execute("select distinct customer_id, shard from account_snapshots").fetchall()
            features = conn.execute("select count(*) from account_features").fetchone()[0]
        assert rows and features
        assert {shard for _, shard in rows} == {index}
        assert all(shard_of(customer, SHARDS) == index for customer, _ in rows)
        seen |= {customer for customer, _ in rows}
    with duckdb.connect(str(homes["one"] / "warehouse.duckdb"), read_only=True) as conn:
        everyone = {c for (c,) in conn.execute("select distinct customer_id from account_snapshots")
                    .fetchall()}
    assert seen == everyone


def test_letters_and_reports_are_the_same_files(homes):
    """Every output file but the Data Docs, which are each shard's own validation site."""
    one, split = (output_fingerprint(homes[name]) for name in ("one", "split"))
    compared = {name for name in one if not name.startswith("data_docs/")}
    assert any(name.startswith("letters/") for name in compared)
    assert sum(name.startswith("reports/") for name in compared) == 2 * NIGHTS
    assert {name: one[name] for name in compared} == {name: split.get(name) for name in compared}
    assert not {name for name in split if not name.startswith("data_docs/")} - compared


def test_the_summary_reads_every_shard(homes):
    outputs = []
    for name, shards in (("one", "1"), ("split", str(SHARDS))):
        code, _ = run_overdue(homes[name], "summary", OVERDUE_SHARDS=shards)
        assert code == 0
        lines = (homes[name] / "overdue.log").read_text(encoding="utf-8").splitlines()
        start = max(i for i, line in enumerate(lines) if line.startswith("warehouse "))
        outputs.append(lines[start + 1:start + 12])
    assert outputs[0] == outputs[1]
    assert any("account_snapshots" in line and " 0 rows" not in line for line in outputs[1])
