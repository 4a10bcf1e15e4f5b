"""The promise ledger in real Dagster runs of a tiny daily book (1..4 May 2026), and its report
sub-section rendered from the materialized warehouse. Worked out by hand (grace 1 day):
  account 2 (M1, T1) promised 250.00 by 2 May on 1 May, paid 250.00 on 2 May -> kept on 2 May
  account 3 (M2, T2) promised 500.00 by 2 May on 1 May, paid nothing          -> broken on 3 May
  account 4 (M2, T2) promised 300.00 by 10 May on 4 May                      -> open
  connected calls (right-party contacts) on 1 May: accounts 2, 3, 4, 5         -> promise rate 3/4
"""

from datetime import date, timedelta

import dagster as dg
import duckdb
import pytest

from pipelines.lib.report.render import build_report
from tests.collections.dagster_night import materialize_night
from tests.conftest import snapshot_row, use_home, write_csv, write_night

NIGHTS = [date(2026, 5, 1) + timedelta(days=i) for i in range(4)]
SELECTION = ["account_snapshots", "customers", "contact_events", "account_features", "portfolio_daily",
             "collection_tiers", "contact_history", "promises"]
EVENT_COLUMNS = ["event_id", "event_time", "customer_id", "account_id", "event_type", "channel",
                 "amount", "until_date"]


def book(night: date) -> list[dict]:
    day = (night - NIGHTS[0]).days
    paid = {(2, 1): "250.00"}
    return [snapshot_row(night, n, days_past_due=str(dpd + day), past_due_amount="300.00",
                         balance="3000.00",
                         payment_amount=paid.get((n, day), "0.00"),
                         last_payment_date=night.isoformat() if (n, day) in paid
                         else "2026-04-18")
            for n, dpd in ((1, 0), (2, 12), (3, 40), (4, 45), (5, 12))]


def events(night: date) -> list[dict]:
    def row(i, n, kind, amount="", until=""):
        return {"event_id": f"EV{night:%d}{i}", "event_time": f"{night}T10:00:00+08:00",
                "customer_id": f"CU{n:07d}", "account_id": f"AC{n:08d}", "event_type": kind,
                "channel": "phone", "amount": amount, "until_date": until}
    if night == NIGHTS[0]:
        return [row(1, 2, "promise_to_pay", "250.00", "2026-05-02"),
                row(2, 3, "promise_to_pay", "500.00", "2026-05-02"),
                *[row(3 + i, n, "call_connected") for i, n in enumerate((2, 3, 4, 5))]]
    if night == NIGHTS[-1]:
        return [row(1, 4, "promise_to_pay", "300.00", "2026-05-10")]
    return []


def run(night: date) -> dg.ExecuteInProcessResult:
    return materialize_night(night, SELECTION)


@pytest.fixture(scope="module")
def nights_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("promises_home")
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, home)
        patch.setenv("OVERDUE_REPORT_LANGUAGES", "en,zh-CN")
        results = {}
        for night in NIGHTS:
            write_night(home, night, book(night))
            rows = events(night)
            if rows:
                write_csv(home / "landing" / "contact_events" / f"{night}.csv", rows,
                          EVENT_COLUMNS)
            results[night] = run(night)
            assert results[night].success, [e.message for e in results[night].all_events
                                             if e.is_failure]
        yield home, results


def test_the_ledger_after_four_nights(nights_run):
    home, _ = nights_run
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        got = conn.execute(
            "select account_id, tier_at_promise, status, cast(paid_amount as varchar), "
            "resolved_night from promises order by account_id").fetchall()
    assert got == [
        ("AC00000002", "T1", "kept", "250.00", date(2026, 5, 2)),
        ("AC00000003", "T2", "broken", "0.00", date(2026, 5, 3)),
        ("AC00000004", "T2", "open", "0.00", None),
    ]


def test_metadata_counts_each_nights_statuses_and_the_check_passes(nights_run):
    _, results = nights_run
    counts = {}
    for night, result in results.items():
        (materialization,) = result.asset_materializations_for_node("promises")
        md = materialization.metadata
        counts[night.day] = (md["promises_open"].value, md["promises_kept"].value,
                             md["promises_broken"].value)
        checks = result.get_asset_check_evaluations()
        assert [c.passed for c in checks if c.check_name == "promises_ledger_consistent"] == [True]
    assert counts == {1: (2, 0, 0), 2: (1, 1, 0), 3: (0, 1, 1), 4: (1, 1, 1)}


def test_the_report_section_shows_the_rates_and_amounts(nights_run, tmp_path):
    home, _ = nights_run
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        result = build_report(conn, NIGHTS[-1], tmp_path, languages=("en", "zh-CN"), pdf=False,
                              workers=1)
    html = {f.language: f.html.read_text(encoding="utf-8") for f in result.files}
    part = html["en"].split('id="loop-promises"')[1].split("</div>")[0]
    cells = [c.split(">")[-1] for c in part.split("</td>")]
    assert "Promises to pay" in part
    # promises tonight 1, last 30 nights 3, right-party contacts 4, rate 75%, open 1
    assert cells[:5] == ["1", "3", "4", "75%", "1"]
    rows = [r for r in part.split("<tr>") if "<td" in r]
    text = [[c.split(">")[-1] for c in r.split("</td>")[:-1]] for r in rows]
    assert ["tier at promise", "T1", "1", "0", "0", "0", "100%"] in text
    assert ["tier at promise", "T2", "0", "1", "0", "0", "0%"] in text
    assert text[-1] == ["CNY", "2", "¥750.00", "¥250.00", "33%", "1", "¥300.00"]
    assert "还款承诺" in html["zh-CN"] and "兑现率" in html["zh-CN"]
    for name in ("欧阳娜娜", "+8613800138000", "nana@example.cn", "CU0000002"):
        assert name not in html["en"] and name not in html["zh-CN"]


def test_a_rerun_of_an_earlier_night_takes_nothing_back(nights_run):
    home, _ = nights_run
    ledger_sql = "select * exclude (made_at) from promises order by promise_id"
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        before = conn.execute(ledger_sql).fetchall()
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, home)
        rerun = run(NIGHTS[1])
    assert rerun.success
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute(ledger_sql).fetchall() == before
    (materialization,) = rerun.asset_materializations_for_node("promises")
    # the night's own view: account 2 kept, account 3 still open on 2 May, account 4 not yet
    assert (materialization.metadata["promises_kept"].value,
            materialization.metadata["promises_open"].value) == (1, 1)
