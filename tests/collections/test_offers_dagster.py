"""A payment plan in real Dagster runs, night by night: offered, accepted through
contact_outcomes (made by hand with the common.md columns; the feed is another part's), followed
from the snapshots, broken by a missed instalment, and the account back in its tier.

Test strategy: M3 gets the payment-plan treatment; 3 instalments, the first due 1 day after
acceptance, then every 2 days, 1 grace day. Account 4 (M3, balance 1000.00): offered 05-03,
accepted 05-04 -> instalments 333.33 due 05-05, 333.33 due 05-07, 333.34 due 05-09. It pays
333.33 on 05-05, nothing after: the second is missed once 05-08 (due + grace) has passed, so on
05-09 the plan is broken and the account gets its tier's phone task again.
"""

import csv
import subprocess
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import duckdb
import pytest

from pipelines.lib.collections import strategy as strategy_module
from tests.collections.dagster_night import materialize_night
from tests.collections.test_offers import OUTCOMES, strategy_file
from tests.conftest import customer_row, snapshot_row, use_home, write_night

START = date(2026, 5, 3)
SELECTION = ["account_snapshots", "customers", "contact_events", "account_features",
             "collection_tiers", "offers", "contact_history", "letter_batches"]


def _strategy(raw):
    for rule in raw["tiers"]:
        if rule["buckets"] == ["M3"]:
            rule["treatment"] = "T3_payment_plan"
    plan = raw["offers"]["payment_plan"]
    plan.update(default_instalments=3, first_due_days=1, interval_days=2, grace_days=1)


def run(night: date) -> dg.ExecuteInProcessResult:
    return materialize_night(night, SELECTION)


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    home = tmp_path_factory.mktemp("offers_home")
    seen = {}
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, home)
        patch.setattr(strategy_module, "STRATEGY_PATH",
                      strategy_file(tmp_path_factory.mktemp("strategy"), _strategy))
        for i in range(7):
            night = START + timedelta(days=i)
            write_night(home, night, [snapshot_row(
                night, 4, days_past_due=str(70 + i), past_due_amount="300.00",
                balance="1000.00", payment_amount="333.33" if night == date(2026, 5, 5)
                else "0.00")], [customer_row(4)])
            if i == 1:
                with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
                    conn.execute(OUTCOMES)
                    (offer_id,) = conn.execute("select offer_id from offers").fetchone()
                    conn.execute(
                        "insert into contact_outcomes values (?, 'OC1', 'CT1', ?, "
                        "'offer_accepted', null, null, ?, 'AG7', null, 'work_list', null, "
                        "'work_list.csv', 1)",
                        [night, datetime(2026, 5, 4, 3, tzinfo=UTC), offer_id])
            result = run(night)
            assert result.success, [e.message for e in result.all_events if e.is_failure]
            with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
                status = conn.execute("select status from offers").fetchone()[0]
                reasons = conn.execute(
                    "select suppression_reasons from collection_tiers where snapshot_date = ?",
                    [night]).fetchone()[0]
                tasks = conn.execute(
                    "select count(*) from contact_history where source = 'plan' and "
                    "snapshot_date = ? and channel = 'phone'", [night]).fetchone()[0]
            seen[night] = (status, reasons, tasks)
            if i == 0:
                metadata = result.asset_materializations_for_node("offers")[0].metadata
        yield home, seen, metadata


def test_the_offer_letter_is_released_in_print_with_the_offer_figures(nights):
    home, _, _ = nights
    folder = home / "out" / "letters" / str(START)
    held = list(csv.DictReader((folder / "held.csv").open(encoding="utf-8")))
    assert [h for h in held if h["template"] == "payment_plan_offer"] == []
    index = list(csv.DictReader((folder / "print" / "index.csv").open(encoding="utf-8")))
    assert len(index) == 1
    text = subprocess.run(["pdftotext", str(folder / "print" / index[0]["file"]), "-"],
                          check=True, capture_output=True, text=True).stdout
    # 1000.00 in 3: 333.33, 333.33, 333.34; valid 14 days from 2026-05-03
    assert "分期还款方案通知函" in text and "1,000.00" in text
    assert text.count("333.33") >= 2 and "333.34" in text and "2026年5月17日" in text


def test_the_plan_runs_breaks_and_the_account_returns_to_its_tier(nights):
    _, seen, _ = nights
    d = date
    assert seen == {
        d(2026, 5, 3): ("offered", None, 1),
        d(2026, 5, 4): ("accepted", "payment_plan_active", 0),
        d(2026, 5, 5): ("kept", "payment_plan_active", 0),
        d(2026, 5, 6): ("kept", "payment_plan_active", 0),
        d(2026, 5, 7): ("kept", "payment_plan_active", 0),
        d(2026, 5, 8): ("kept", "payment_plan_active", 0),
        d(2026, 5, 9): ("broken", None, 1),
    }


def test_instalments_are_recorded_to_the_cent(nights):
    home, _, _ = nights
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        rows = conn.execute("select number, due_date, cast(amount as varchar), "
                            "cast(paid_amount as varchar), status from offer_instalments "
                            "order by number").fetchall()
    assert rows == [(1, date(2026, 5, 5), "333.33", "333.33", "paid"),
                    (2, date(2026, 5, 7), "333.33", "0.00", "missed"),
                    (3, date(2026, 5, 9), "333.34", "0.00", "due")]


def test_offers_metadata_is_counts_only(nights):
    _, _, metadata = nights
    assert metadata["offers_offered"].value == 1
    assert metadata["offers_made_tonight"].value == 1
    assert not any("AC0" in str(v.value) or "CU0" in str(v.value) for v in metadata.values())
