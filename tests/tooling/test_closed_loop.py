"""The closed loop with the real pipeline: the outcomes of night N answer the contacts the pipeline
released on N-1 (and recorded in contact_history), the book lives night N under the treatment
each account got, and the treatment truth is written beside the other truth."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from pipelines.lib.collections.strategy import STRATEGY_PATH
from tooling.closed_loop import closed_loop, strategy_treatments
from tooling.simulator.outcomes import OUTCOME_COLUMNS

END = date(2026, 5, 3)
GROUPS = ["ingest", "features", "collections"]


def _rows(path):
    if not path.exists():
        return []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    from tests.conftest import use_home

    home = tmp_path_factory.mktemp("closed_loop")
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, home)
        nights = closed_loop(home, accounts=400, nights=3, seed=2, end_date=END, groups=GROUPS)
    return home, nights


def test_outcomes_answer_only_contacts_released_the_night_before(loop):
    home, nights = loop
    assert [n.night for n in nights] == [END - timedelta(days=2), END - timedelta(days=1), END]
    assert nights[0].outcomes == 0          # the first night has no batch before it
    answered = 0
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        history = set(conn.execute("select contact_id from contact_history").df()["contact_id"])
    for night in (END - timedelta(days=1), END):
        batch = home / "out" / "letters" / (night - timedelta(days=1)).isoformat()
        released = ({r["letter_id"] for r in _rows(batch / "manifest.csv")}
                    | {r["contact_id"] for r in _rows(batch / "work_list.csv")
                       if r["queue"] in ("phone_early", "phone_formal", "specialist")})
        path = home / "landing" / "contact_outcomes" / f"{night.isoformat()}.csv"
        header = next(csv.reader(path.open(encoding="utf-8")))
        assert tuple(header) == OUTCOME_COLUMNS
        rows = _rows(path)
        ids = {r["contact_id"] for r in rows}
        returned = {r["contact_id"]: r for r in _rows(
            home / "landing" / "work_list_outcomes" / f"{night.isoformat()}.csv")}
        calls = {i for i, r in returned.items() if r["outcome"]}
        assert ids <= released and ids <= history and calls <= history
        # every message answered in the feed, every call in the filled work list
        assert {r["contact_id"] for r in rows if r["outcome"] != "complaint"} | calls == released
        assert all(r["source"] == "gateway" for r in rows)
        answered += len(rows) + len(calls)
    assert answered > 0
    assert sum(n.outcomes for n in nights) == answered


def test_treatment_truth_states_every_strategy_treatment(loop):
    home, _ = loop
    truth = pd.read_parquet(home / "truth" / "treatments" / f"{END.isoformat()}.parquet")
    names = strategy_treatments(STRATEGY_PATH)
    assert {f"p_cure_30d_{name}" for name in names} <= set(truth.columns)
    assert len(truth) > 0
    p = truth[[c for c in truth.columns if c.startswith("p_cure_30d_")]]
    assert ((p >= 0) & (p <= 1)).all().all()
    # an account treated with a daily call gets the stated factor: 1.3 or, hardship, 0.65
    called = truth[truth["channels_got"].str.contains("phone")]
    assert len(called) > 0
    for _, row in called.iterrows():
        assert row["cure_multiplier_got"] < 1 if row["hardship"] else row["cure_multiplier_got"] > 1


def test_overdue_has_the_closed_loop_subcommand():
    import argparse

    from tooling.commands import cmd_closed_loop, register

    parser = argparse.ArgumentParser(prog="overdue")
    register(parser.add_subparsers())
    args = parser.parse_args(["closed-loop", "--accounts", "500", "--nights", "4", "--world",
                              "none"])
    assert (args.func, args.accounts, args.nights, args.world, args.seed, args.warmup) == (
        cmd_closed_loop, 500, 4, "none", 1, 0)
    with pytest.raises(SystemExit):
        parser.parse_args(["closed-loop", "--world", "maybe"])
