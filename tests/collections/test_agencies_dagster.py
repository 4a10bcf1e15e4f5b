"""The agency assets in real Dagster runs over two landed nights: accounts of M5, M6 and WO are
placed before tiering, so the lender plans them no contact; the agencies' files are written
owner-only and a rerun leaves them byte for byte; no personal data in any metadata.

Book (customer = same number): 1 M1, 2 M4, 3 M5 (CN), 4 M6 (US), 5 WO charged off (CN, pays
CNY 100.00 on the second night: recalled on payment, a post-write-off recovery).
"""

import stat
from datetime import date, timedelta

import dagster as dg
import duckdb
import pytest

from tests.collections.dagster_night import materialize_night
from tests.conftest import customer_row, snapshot_row, use_home, write_night

NIGHT = date(2026, 5, 3)
EARLIER = NIGHT - timedelta(days=1)
SELECTION = ["account_snapshots", "customers", "contact_events", "account_features",
             "agency_placements", "agency_placement_files", "collection_tiers",
             "contact_history", "legal_review", "post_write_off_recoveries"]
NAMES = ("欧阳娜娜", "Mary O'Brien", "+1415555", "+86138", "example")


def book(night: date):
    def late(n, dpd, **values):
        return snapshot_row(night, n, days_past_due=str(dpd), past_due_amount="900.00",
                            balance="5432.10", **values)

    snapshots = [late(1, 12), late(2, 100), late(3, 130), late(4, 160, currency="USD"),
                 late(5, 200, status="charged_off", charge_off_date="2026-04-01",
                      payment_amount="100.00" if night == NIGHT else "0.00")]
    customers = [customer_row(n, mobile_phone=f"+8613800138{n:03d}", email=f"c{n}@example.cn")
                 for n in (1, 2, 3, 5)]
    customers.append(customer_row(4, full_name="Mary O'Brien", mobile_phone="+14155550123",
                                  email="mary@example.com", postal_address="12 Oak Street",
                                  country="US", preferred_language="en-US",
                                  timezone="America/Chicago"))
    return snapshots, sorted(customers, key=lambda r: r["customer_id"])


def run(night: date) -> dg.ExecuteInProcessResult:
    return materialize_night(night, SELECTION)


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    home = tmp_path_factory.mktemp("agencies_home")
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, home)
        for night in (EARLIER, NIGHT):
            write_night(home, night, *book(night))
        results = []
        for night in (EARLIER, NIGHT):
            result = run(night)
            assert result.success, [e.message for e in result.all_events if e.is_failure]
            results.append(result)
        yield home, results


def test_late_buckets_are_placed_before_tiering_and_get_no_own_contact(nights):
    home, _ = nights
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        placed = conn.execute("select account_id, jurisdiction, currency, placed_night, status, "
                              "recall_reason from agency_placements order by 1").fetchall()
        tiers = dict(conn.execute(
            "select account_id, suppression_reason from collection_tiers where "
            "snapshot_date = ?", [EARLIER]).fetchall())
        planned = {r[0] for r in conn.execute(
            "select distinct account_id from contact_history where source = 'plan' and "
            "snapshot_date = ?", [EARLIER]).fetchall()}
        recovered = conn.execute("select account_id, snapshot_date, payment_amount from "
                                 "post_write_off_recoveries").fetchall()
        legal = conn.execute("select snapshot_date, account_id, track from legal_review "
                             "order by 1").fetchall()
    assert placed == [
        ("AC00000003", "CN", "CNY", EARLIER, "active", None),
        ("AC00000004", "US", "USD", EARLIER, "active", None),
        ("AC00000005", "CN", "CNY", EARLIER, "recalled", "payment"),
    ]
    assert tiers["AC00000003"] == tiers["AC00000004"] == tiers["AC00000005"] \
        == "placed_with_agency"
    assert tiers["AC00000002"] is None
    assert planned == {"AC00000001", "AC00000002"}
    assert [(a, d, float(p)) for a, d, p in recovered] == [("AC00000005", NIGHT, 100.0)]
    # the write-off review (T5) account: CNY 5,432.10 between 2,000 and 50,000, address on
    # record: a payment-order candidate both nights
    assert legal == [(EARLIER, "AC00000005", "payment_order"),
                     (NIGHT, "AC00000005", "payment_order")]


def test_placement_files_are_owner_only_and_a_rerun_leaves_them_as_they_were(nights):
    home, _ = nights
    folder = home / "out" / "placements" / EARLIER.isoformat()
    files = sorted(folder.glob("*.csv"))
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert sum(len(f.read_text(encoding="utf-8").splitlines()) - 1 for f in files) == 3
    # the second night placed nobody; the charged-off account's payment recalled it
    (recalls,) = (home / "out" / "placements" / NIGHT.isoformat()).glob("*.csv")
    assert recalls.name.endswith(".recalls.csv")
    assert recalls.read_text(encoding="utf-8").splitlines() == [
        "placement_id,account_reference,ended_date,status,reason",
        "PL20260502-AC00000005,AC00000005,2026-05-03,recalled,payment"]
    before = {f.name: (f.read_bytes(), f.stat().st_mtime_ns) for f in files}
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        table = conn.execute("select * from agency_placements order by 1").fetchall()
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, home)
        again = run(EARLIER)
    assert again.success
    # the earlier night rerun replays the later night too: the table is as it was
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("select * from agency_placements order by 1").fetchall() == table
    assert {f.name: (f.read_bytes(), f.stat().st_mtime_ns)
            for f in sorted(folder.glob("*.csv"))} == before


def test_no_personal_data_in_any_metadata(nights):
    _, results = nights
    for result in results:
        for event in result.all_events:
            text = str(event.event_specific_data)
            assert not any(name in text for name in NAMES), event.event_type_value
