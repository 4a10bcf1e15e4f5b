"""Ingest through the real Dagster job, into a real DuckDB file: idempotent, complete, atomic."""

from datetime import date, timedelta

import duckdb
import pytest

from pipelines import settings
from pipelines.cli import CommandError, run_nights
from tests.conftest import NIGHT, snapshot_row, write_night

TABLES = ("account_snapshots", "customers_history", "contact_events", "quarantine")


def table_fingerprints() -> dict[str, list]:
    """Every row of every ingest table, sorted: equal fingerprints mean equal contents."""
    with duckdb.connect(str(settings.warehouse_path())) as conn:
        return {t: sorted(map(repr, conn.table(t).fetchall())) for t in TABLES}


def query(sql: str, params=None):
    with duckdb.connect(str(settings.warehouse_path())) as conn:
        return conn.execute(sql, params or []).fetchall()


def test_rerun_of_a_night_changes_nothing(home):
    write_night(home, NIGHT, [snapshot_row(number=i) for i in range(1, 6)]
                + [snapshot_row(number=9, credit_limit="-1")])
    run_nights(NIGHT, NIGHT)
    first = table_fingerprints()
    log_first = query("select sha256, status, ingested_at from ingest_log order by feed")
    run_nights(NIGHT, NIGHT)
    assert table_fingerprints() == first
    assert query("select sha256, status, ingested_at from ingest_log order by feed") == log_first
    assert len(first["account_snapshots"]) == 5
    assert query("select row_number, rule from quarantine") == [(6, "credit_limit_minimum")]


def test_every_row_is_loaded_or_quarantined(home):
    rows = [snapshot_row(number=i) for i in range(1, 21)]
    rows[3]["currency"] = "RMB"
    rows[7]["days_past_due"] = "4"
    rows[7]["status"] = "active"  # one row, two rules: still one quarantined row
    rows[11]["account_id"] = rows[12]["account_id"]
    write_night(home, NIGHT, rows)
    run_nights(NIGHT, NIGHT)
    ((read, loaded, quarantined),) = query(
        "select rows_read, rows_loaded, rows_quarantined from ingest_log "
        "where feed = 'account_snapshots'")
    assert (read, loaded, quarantined) == (20, 16, 4)
    assert query("select count(*) from account_snapshots") == [(16,)]
    assert query("select count(distinct row_number) from quarantine "
                 "where feed = 'account_snapshots'") == [(4,)]


def test_a_changed_file_replaces_the_night(home):
    path = write_night(home, NIGHT, [snapshot_row(number=i) for i in range(1, 4)])
    run_nights(NIGHT, NIGHT)
    write_night(home, NIGHT, [snapshot_row(number=1, balance="99.00"), snapshot_row(number=4)])
    run_nights(NIGHT, NIGHT)
    assert query("select account_id, balance from account_snapshots order by 1") == [
        ("AC00000001", 99), ("AC00000004", 2500.5)]
    statuses = query("select status from ingest_log where feed = 'account_snapshots' order by ingested_at")
    assert [s for (s,) in statuses] == ["replaced", "loaded"]
    assert path.exists()


def test_a_rejected_file_leaves_the_warehouse_unchanged(home):
    write_night(home, NIGHT, [snapshot_row(number=i) for i in range(1, 4)])
    run_nights(NIGHT, NIGHT)
    before = table_fingerprints()
    path = home / "landing" / "account_snapshots" / f"{NIGHT}.csv"
    original = path.read_bytes()
    path.write_bytes(original.replace(b"revolving", "循环".encode("gbk")))
    with pytest.raises(CommandError, match=r"account_snapshots.*2026-05-03\.csv.*not valid UTF-8"):
        run_nights(NIGHT, NIGHT)
    after = table_fingerprints()
    assert after["account_snapshots"] == before["account_snapshots"]
    assert after["customers_history"] == before["customers_history"]
    assert query("select rule, row_number from quarantine where rule like 'file_%'") == [
        ("file_encoding", None)]
    assert path.read_bytes() != original  # left where it was, as it was


def test_a_backfill_loads_many_nights_in_one_run(home):
    from dagster import DagsterInstance

    nights = [NIGHT - timedelta(days=d) for d in range(4, -1, -1)]
    for i, night in enumerate(nights):
        write_night(home, night, [snapshot_row(night, number=n) for n in range(1, 3 + i)])
    run_nights(nights[0], nights[-1])
    assert query("select snapshot_date, count(*) from account_snapshots group by 1 order by 1") == [
        (night, 2 + i) for i, night in enumerate(nights)]
    instance = DagsterInstance.get()
    assert len(instance.get_runs()) == 1


def test_a_missing_required_feed_fails_naming_it(home):
    write_night(home, NIGHT, [snapshot_row()])
    (home / "landing" / "customers" / f"{NIGHT}.csv").unlink()
    with pytest.raises(CommandError, match="required feed customers has no file for 2026-05-03"):
        run_nights(NIGHT, NIGHT)


def test_extra_columns_are_kept(home):
    write_night(home, NIGHT, [snapshot_row(branch_code="BJ-01"), snapshot_row(number=2, branch_code="")])
    run_nights(NIGHT, NIGHT)
    assert query("select extra_columns->>'branch_code' from account_snapshots order by account_id") == [
        ("BJ-01",), ("",)]


def test_customers_view_holds_the_latest_version(home):
    from tests.conftest import customer_row

    earlier = NIGHT - timedelta(days=1)
    write_night(home, earlier, [snapshot_row(earlier)], [customer_row(1, city="上海")])
    write_night(home, NIGHT, [snapshot_row()], [customer_row(1, city="北京")])
    run_nights(earlier, NIGHT)
    assert query("select city from customers") == [("北京",)]
    assert query("select count(*) from customers_history") == [(2,)]


def test_contact_events_load_when_present(home):
    from tests.conftest import write_csv

    write_night(home, NIGHT, [snapshot_row()])
    write_csv(home / "landing" / "contact_events" / f"{NIGHT}.csv", [
        {"event_id": "E1", "event_time": "2026-05-03T10:00:00+08:00", "customer_id": "CU0000001",
         "account_id": "AC00000001", "event_type": "promise_to_pay", "channel": "phone",
         "amount": "100.00", "until_date": "2026-05-10"},
        {"event_id": "E2", "event_time": "2026-05-05T10:00:00+08:00", "customer_id": "CU0000001",
         "account_id": "", "event_type": "complaint", "channel": "", "amount": "", "until_date": ""},
    ])
    run_nights(NIGHT, NIGHT)
    assert query("select event_id, amount from contact_events") == [("E1", 100)]
    assert query("select rule from quarantine where feed = 'contact_events'") == [
        ("event_time_not_after_file_date",)]


def test_no_personal_data_in_asset_metadata(home):
    from dagster import AssetKey, DagsterEventType, DagsterInstance, EventRecordsFilter

    from tests.conftest import customer_row

    write_night(home, NIGHT, [snapshot_row(), snapshot_row(number=2)],
                [customer_row(1), customer_row(2, mobile_phone="13800138000")])
    run_nights(NIGHT, NIGHT)
    instance = DagsterInstance.get()
    texts = []
    for key in ("customers", "account_snapshots"):
        event = instance.get_latest_materialization_event(AssetKey(key))
        texts.append(repr(event.asset_materialization.metadata))
    for record in instance.get_event_records(
            EventRecordsFilter(event_type=DagsterEventType.ASSET_CHECK_EVALUATION)):
        texts.append(repr(record.event_log_entry.dagster_event.event_specific_data))
    blob = "\n".join(texts)
    assert "mobile_phone_pattern" in blob
    for personal in ("13800138000", "欧阳娜娜", "nana@example.cn", "建国路"):
        assert personal not in blob


def test_first_partition_follows_the_landing_folder(home, monkeypatch):
    monkeypatch.delenv("OVERDUE_START_DATE")
    write_night(home, date(2025, 1, 31), [snapshot_row(date(2025, 1, 31))])
    assert settings.first_partition_date() == "2025-01-31"


def test_snapshots_are_stored_in_customer_order_whatever_the_file_order(tmp_path):
    """The feature query reads a large book in customer ranges; it reads only a range's row
    groups when each night's rows are stored by customer, so a file in any order is sorted."""
    import random

    from pipelines.lib.ingest.contracts import load_contract
    from pipelines.lib.ingest.load import ensure_warehouse, ingest_file
    from tests.conftest import write_csv

    contract = load_contract("account_snapshots")
    assert contract.cluster_by == ("customer_id", "account_id")
    numbers = list(range(1, 301))
    random.Random(7).shuffle(numbers)
    rows = [snapshot_row(number=n, customer_id=f"CU{n % 40:07d}") for n in numbers]
    path = write_csv(tmp_path / "account_snapshots" / f"{NIGHT}.csv", rows)
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_warehouse(conn)
    assert ingest_file(conn, contract, path).rows_loaded == 300
    stored = conn.execute("select customer_id, account_id, source_row from account_snapshots "
                          "order by rowid").fetchall()
    assert [(c, a) for c, a, _ in stored] == sorted((c, a) for c, a, _ in stored)
    # lineage still names each row's line in the file
    by_account = {a: r for _, a, r in stored}
    assert all(by_account[f"AC{n:08d}"] == line for line, n in enumerate(numbers, 1))
