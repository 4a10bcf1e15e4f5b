"""Every entry of a landing folder accounted for; control files and files still being written.

One real ingest run (module fixture) over a landing folder holding every kind of odd entry;
the control-file and growing-file cases call `ingest_night` on a real DuckDB file.
"""

import gzip
import hashlib
import threading
import time
from datetime import date, datetime

import dagster as dg
import duckdb
import pytest

from pipelines import settings
from pipelines.cli import run_nights
from pipelines.lib.ingest.inventory import FileRejected, scan_feed
from pipelines.lib.ingest.load import LandingFileNotReady, ingest_night
from tests.conftest import NIGHT, customer_row, snapshot_row, use_home, write_csv, write_night

EVENT = {"event_id": "E1", "event_time": "2026-05-03T10:00:00+08:00", "customer_id": "CU0000001",
         "account_id": "", "event_type": "deceased", "channel": "", "amount": "",
         "until_date": ""}


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    home = tmp_path_factory.mktemp("inventory")
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, home)
        write_night(home, NIGHT, [snapshot_row(number=i) for i in (1, 2)])
        snapshots = home / "landing" / "account_snapshots"
        for name in ("2026-02-30.csv", "20260503.csv", "0000-00-00.csv", "notes.txt"):
            (snapshots / name).write_text("snapshot_date\n")
        (snapshots / "2026-05-04.csv").mkdir()
        (snapshots / "2026-05-05.csv").symlink_to(home / "gone.csv")
        (home / "landing" / "contact_event").mkdir()
        events = write_csv(home / "landing" / "contact_events" / "tmp.csv", [EVENT])
        gz = events.with_name(f"{NIGHT}.csv.gz")
        gz.write_bytes(gzip.compress(events.read_bytes()))
        events.unlink()
        customers = home / "landing" / "customers" / f"{NIGHT}.csv"
        customers.with_name(customers.name + ".ok").write_text(
            f"rows=2\nsha256={hashlib.sha256(customers.read_bytes()).hexdigest()}\n")
        run_nights(NIGHT, NIGHT, groups=["ingest"])
        instance = dg.DagsterInstance.get()
        checks = {}
        for record in instance.get_event_records(
                dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)):
            data = record.event_log_entry.dagster_event.event_specific_data
            checks[data.check_name] = data
        from pipelines.lib.summary import warehouse_summary

        summary = warehouse_summary(settings.warehouse_path())
        with duckdb.connect(str(settings.warehouse_path()), read_only=True) as conn:
            log = conn.execute(
                "select feed, source_file, snapshot_date, rows_read, message from ingest_log"
                " where status = 'unrecognised' order by source_file").fetchall()
            events_loaded = conn.execute(
                "select event_id, event_type from contact_events").fetchall()
            customers_loaded = conn.execute("select count(*) from customers_history").fetchone()
        yield {"home": home, "log": log, "checks": checks, "summary": summary,
               "events": events_loaded, "customers": customers_loaded}


def test_every_odd_entry_is_in_ingest_log_with_its_reason(landed):
    home = landed["home"]
    reasons = {path.replace(str(home / "landing") + "/", ""): (feed, night, rows, message)
               for feed, path, night, rows, message in landed["log"]}
    assert set(reasons) == {
        "account_snapshots/0000-00-00.csv", "account_snapshots/2026-02-30.csv",
        "account_snapshots/20260503.csv", "account_snapshots/2026-05-04.csv",
        "account_snapshots/2026-05-05.csv", "account_snapshots/notes.txt", "contact_event"}
    assert all(feed == "account_snapshots" and night == NIGHT and rows == 0
               for feed, night, rows, _ in reasons.values())
    assert "did you mean 2026-05-03.csv?" in reasons["account_snapshots/20260503.csv"][3]
    assert "impossible date" in reasons["account_snapshots/2026-02-30.csv"][3]
    assert "impossible date" in reasons["account_snapshots/0000-00-00.csv"][3]
    assert "directory named like a night file" in reasons["account_snapshots/2026-05-04.csv"][3]
    assert "dangling symbolic link" in reasons["account_snapshots/2026-05-05.csv"][3]
    assert "unknown extension '.txt'" in reasons["account_snapshots/notes.txt"][3]
    assert "did you mean contact_events/?" in reasons["contact_event"][3]


def test_the_warn_check_and_the_summary_name_them(landed):
    check = landed["checks"]["account_snapshots_landing_files_recognised"]
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["unrecognised_entries"].value == 7
    assert landed["checks"]["customers_landing_files_recognised"].passed
    assert "unrecognised landing entries (not read)" in landed["summary"]
    assert "20260503.csv: name is not <YYYY-MM-DD>.<ext>: did you mean" in landed["summary"]


def test_a_gzip_csv_and_a_file_matching_its_control_load(landed):
    assert landed["events"] == [("E1", "deceased")]
    assert landed["customers"] == (2,)


def night_files(tmp_path, monkeypatch) -> tuple:
    use_home(monkeypatch, tmp_path)
    path = write_night(tmp_path, NIGHT, [snapshot_row(number=i) for i in (1, 2, 3)])
    return path, duckdb.connect(str(tmp_path / "w.duckdb"))


def test_a_file_not_matching_its_control_is_rejected_whole(tmp_path, monkeypatch):
    path, conn = night_files(tmp_path, monkeypatch)
    control = path.with_name(path.name + ".ok")
    control.write_text("rows=3\nsha256=" + "0" * 64 + "\n")
    with pytest.raises(FileRejected, match="sha256 of the file is .* its control file says 000"):
        ingest_night(conn, "account_snapshots", NIGHT, tmp_path / "landing")
    control.write_text(f"rows=4\nsha256={hashlib.sha256(path.read_bytes()).hexdigest()}\n")
    with pytest.raises(FileRejected, match="3 data records read, its control file says rows=4"):
        ingest_night(conn, "account_snapshots", NIGHT, tmp_path / "landing")
    assert conn.execute("select count(*) from account_snapshots").fetchone() == (0,)
    assert conn.execute("select status, message from ingest_log").fetchall() == [
        ("rejected", "3 data records read, its control file says rows=4 [file_control_mismatch]")]


def test_a_required_control_file_missing_means_waiting(tmp_path, monkeypatch):
    path, conn = night_files(tmp_path, monkeypatch)
    monkeypatch.setenv("OVERDUE_CONTROL_FILES", "required")
    with pytest.raises(LandingFileNotReady, match=f"waiting for its control file {path.name}.ok"):
        ingest_night(conn, "account_snapshots", NIGHT, tmp_path / "landing")


def test_a_file_still_being_written_is_not_read(tmp_path, monkeypatch):
    path, conn = night_files(tmp_path, monkeypatch)
    monkeypatch.setenv("OVERDUE_LANDING_SETTLE_SECONDS", "0.6")
    row = path.read_text().splitlines()[-1]

    def append():
        for _ in range(3):
            time.sleep(0.15)
            with path.open("a") as handle:
                handle.write(row + "\n")

    writer = threading.Thread(target=append)
    writer.start()
    with pytest.raises(LandingFileNotReady, match="still being written"):
        ingest_night(conn, "account_snapshots", NIGHT, tmp_path / "landing")
    writer.join()
    assert conn.execute("select count(*) from information_schema.tables"
                        " where table_name = 'account_snapshots'").fetchone() == (0,)
    time.sleep(0.7)  # settled now: one look is enough
    assert ingest_night(conn, "account_snapshots", NIGHT, tmp_path / "landing").status == "loaded"


def test_a_stray_far_off_night_is_reported_isolated(tmp_path):
    for night in (date(1970, 1, 1), date(2026, 5, 2), NIGHT):
        write_csv(tmp_path / "account_snapshots" / f"{night}.csv", [customer_row()])
    inventory = scan_feed(tmp_path, "account_snapshots", 400)
    assert sorted(inventory.nights) == [date(2026, 5, 2), NIGHT]
    (isolated,) = inventory.unrecognised
    assert isolated.path.name == "1970-01-01.csv" and "isolated night" in isolated.reason


def test_an_xlsx_file_loads_as_text_cells_and_two_sheets_are_rejected(tmp_path, monkeypatch):
    from openpyxl import Workbook

    from pipelines.lib.ingest.contracts import load_contract
    from pipelines.lib.ingest.landing import read_landing_file

    use_home(monkeypatch, tmp_path)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([*EVENT, "flag"])
    sheet.append([*EVENT.values(), True])
    sheet.append([])
    sheet.append(["E2", "2026-05-03T11:00:00+08:00", "CU0000001", "AC00000001", "promise_to_pay",
                  "phone", 100.0, datetime(2026, 5, 10), False])
    sheet.append(["E3", "2026-05-03T12:00:00+08:00", "CU0000001", "AC00000001", "promise_to_pay",
                  "phone", 120.5, date(2026, 5, 11), None])
    path = tmp_path / "landing" / "contact_events" / f"{NIGHT}.xlsx"
    path.parent.mkdir(parents=True)
    workbook.save(path)
    landed = read_landing_file(path, load_contract("contact_events"))
    assert landed.table.column("__row_number").to_pylist() == [1, 3, 4]
    assert landed.table.column("amount").to_pylist() == ["", "100", "120.5"]
    assert landed.table.column("until_date").to_pylist() == ["", "2026-05-10", "2026-05-11"]
    assert landed.table.column("flag").to_pylist() == ["true", "false", ""]

    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert ingest_night(conn, "contact_events", NIGHT, tmp_path / "landing").rows_loaded == 3
    assert conn.execute("select event_id from contact_events where event_type = 'deceased'"
                        ).fetchall() == [("E1",)]

    workbook.create_sheet("notes").append(["draft"])
    workbook.save(path)
    with pytest.raises(FileRejected, match="2 worksheets hold data") as rejected:
        read_landing_file(path, load_contract("contact_events"))
    assert rejected.value.rule == "file_ambiguous_sheets"
