"""Tier entry from the account's history (issue 18): a night without the account's row does not
re-enter its tier, an old night rerun after later ones sends no second once-per-entry letter, a
backfill and night-by-night runs agree; an account whose customer never landed is held by name."""

from datetime import date, timedelta

from pipelines.lib.collections import tiering
from pipelines.lib.features.account_features import account_features
from tests.collections.book import (
    STRATEGY,
    customer,
    insert,
    run_night,
    snapshot,
    tier_row,
    warehouse,
)

NIGHTS = [date(2026, 3, 1) + timedelta(days=i) for i in range(10)]


def formal_demands(conn, number: int) -> list[date]:
    return [r[0] for r in conn.execute(
        "select snapshot_date from contact_history where source = 'plan' and account_id = ? "
        "and channel = 'letter' and template = 'formal_demand' and status <> 'cancelled' "
        "order by 1", [f"AC{number:08d}"]).fetchall()]


def test_a_night_without_the_account_keeps_its_tier_entry_and_one_formal_demand():
    # account 1 is in M3 (61-90 days) (T3, formal demand once per entry) every night but the 5th, when its row
    # did not land; account 2 is there every night
    snapshots = [snapshot(night, n, 65 + i) for i, night in enumerate(NIGHTS) for n in (1, 2)
                 if not (n == 1 and i == 4)]
    conn = warehouse(snapshots, [customer(n, NIGHTS[0] - timedelta(days=1)) for n in (1, 2)])
    for night in NIGHTS:
        run_night(conn, night)
    assert tier_row(conn, NIGHTS[5], 1)["tier"] == "T3"
    assert tier_row(conn, NIGHTS[5], 1)["tier_since"] == NIGHTS[0]
    assert tier_row(conn, NIGHTS[9], 1)["tier_since"] == NIGHTS[0]
    assert formal_demands(conn, 1) == [NIGHTS[0]]
    assert formal_demands(conn, 2) == [NIGHTS[0]]


def test_a_gap_longer_than_45_days_is_a_new_entry():
    first, later = date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=46)
    conn = warehouse([snapshot(first, 1, 65), snapshot(later, 1, 70)],
                     [customer(1, first - timedelta(days=1))])
    run_night(conn, first)
    run_night(conn, later)
    assert tier_row(conn, later, 1)["tier_since"] == later
    # at 45 days apart it is the same entry
    conn = warehouse([snapshot(first, 1, 65), snapshot(first + timedelta(days=45), 1, 70)],
                     [customer(1, first - timedelta(days=1))])
    run_night(conn, first)
    run_night(conn, first + timedelta(days=45))
    assert tier_row(conn, first + timedelta(days=45), 1)["tier_since"] == first


def mixed_book() -> list[dict]:
    """Account 1: M2 -> M3 with a missing night; 2: M3, cures on night 4, relapses on night 6;
    3: M1 throughout; 4: absent nights 2-3."""
    rows = []
    for i, night in enumerate(NIGHTS):
        if i != 5:
            rows.append(snapshot(night, 1, 56 + i))
        dpd_2 = 0 if i in (3, 4) else 70 + i
        rows.append(snapshot(night, 2, dpd_2, past_due_amount=0.0 if dpd_2 == 0 else 250.0))
        rows.append(snapshot(night, 3, 10 + i))
        if i not in (1, 2):
            rows.append(snapshot(night, 4, 62 + i))
    return rows


def _outcome(conn):
    tiers = conn.execute("select snapshot_date, account_id, tier, tier_since from "
                         "collection_tiers order by all").fetchall()
    contacts = conn.execute(
        "select snapshot_date, account_id, channel, coalesce(template, queue), status, "
        "contact_id from contact_history where source = 'plan' order by all").fetchall()
    return tiers, contacts


def test_a_backfill_and_night_by_night_runs_give_the_same_entries_and_contacts():
    customers = [customer(n, NIGHTS[0] - timedelta(days=1)) for n in range(1, 5)]
    nightly = warehouse(mixed_book(), customers)
    for night in NIGHTS:
        run_night(nightly, night)
    backfill = warehouse(mixed_book(), customers)
    tiering.build_tiers(backfill, STRATEGY, NIGHTS[0], NIGHTS[-1])
    tiering.plan_nights(backfill, STRATEGY, NIGHTS[0], NIGHTS[-1])
    tiers, contacts = _outcome(nightly)
    assert (tiers, contacts) == _outcome(backfill)
    since = {(r[0], r[1]): r[3] for r in tiers}
    # account 2 re-entered T3 when it relapsed on night 6 (index 5); account 4's gap kept its entry
    assert since[(NIGHTS[5], "AC00000002")] == NIGHTS[5]
    assert since[(NIGHTS[3], "AC00000004")] == NIGHTS[0]
    assert formal_demands(nightly, 2) == [NIGHTS[0], NIGHTS[5]]
    assert formal_demands(nightly, 4) == [NIGHTS[0]]


def test_an_old_night_run_after_later_ones_sends_no_second_formal_demand():
    # account 1 reaches M3 on night 3, but its night-3 row lands late: nights 4-6 run first
    rows = [snapshot(night, 1, 59 + i) for i, night in enumerate(NIGHTS[:6])]
    late = rows.pop(2)
    conn = warehouse(rows, [customer(1, NIGHTS[0] - timedelta(days=1))])
    for night in NIGHTS[:2] + NIGHTS[3:6]:
        run_night(conn, night)
    assert formal_demands(conn, 1) == [NIGHTS[3]]
    insert(conn, "account_snapshots", [late])
    late_features = account_features(conn, NIGHTS[2], NIGHTS[2])  # noqa: F841 (read by name)
    conn.execute("insert into account_features by name select * from late_features")
    run_night(conn, NIGHTS[2])
    assert tier_row(conn, NIGHTS[2], 1)["tier"] == "T3"
    assert formal_demands(conn, 1) == [NIGHTS[3]]
    # and a rerun of night 4 then (its entry is now night 3) plans nothing new either
    run_night(conn, NIGHTS[3])
    assert formal_demands(conn, 1) == [NIGHTS[3]]


def test_an_overdue_account_whose_customer_never_landed_is_held_with_a_rule():
    night = NIGHTS[0]
    conn = warehouse([snapshot(night, 1, 10), snapshot(night, 2, 10, customer=99)],
                     [customer(1, night - timedelta(days=1))])
    run_night(conn, night)
    held = tier_row(conn, night, 2)
    assert held["tier"] == "T1"
    assert held["suppression_reason"] == "no_customer_record"
    assert held["contacts_planned"] == 0
    assert tier_row(conn, night, 1)["suppression_reason"] is None
    assert tier_row(conn, night, 1)["contacts_planned"] > 0
    # the record landing later releases the account from the hold on its nights
    later = night + timedelta(days=1)
    conn2 = warehouse([snapshot(night, 2, 10, customer=99), snapshot(later, 2, 11, customer=99)],
                      [customer(99, later)])
    run_night(conn2, night)
    run_night(conn2, later)
    assert tier_row(conn2, night, 2)["suppression_reason"] == "no_customer_record"
    assert tier_row(conn2, later, 2)["suppression_reason"] is None
