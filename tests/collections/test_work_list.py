"""The work list of a real night's batch as a dialler and a supervisor open it: the CSV with its
BOM read back by csv, the .xlsx read back by openpyxl."""

import csv
import time
from datetime import date

import openpyxl
import pytest

from pipelines.lib.collections import tiering
from pipelines.lib.collections.batch import write_batch
from tests.collections.book import STRATEGY, customer, snapshot, warehouse

NIGHT = date(2026, 5, 3)
HOSTILE = '=HYPERLINK("http://x","y")'
DISPOSITION = ["outcome", "right_party_contact", "promise_amount", "promise_date", "note",
               "outcome_time", "offer_id", "agent_id"]
PHONES = {"AC00000001": "+8613800138001", "AC00000002": "+14155550102",
          "AC00000003": "+8613800138003"}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """M2 accounts (T2: SMS + a call task): a Chinese name, a US customer, a hostile name."""
    snapshots = [snapshot(NIGHT, n, 40, **({"currency": "USD"} if n == 2 else {}))
                 for n in (1, 2, 3)]
    customers = [
        customer(1, NIGHT, full_name="欧阳娜娜", mobile_phone=PHONES["AC00000001"]),
        customer(2, NIGHT, full_name="Mary O'Brien", mobile_phone=PHONES["AC00000002"],
                 country="US", preferred_language="en-US", timezone="America/Chicago"),
        customer(3, NIGHT, full_name=HOSTILE, mobile_phone=PHONES["AC00000003"]),
    ]
    conn = warehouse(snapshots, customers)
    tiering.build_tiers(conn, STRATEGY, NIGHT, NIGHT)
    tiering.plan_nights(conn, STRATEGY, NIGHT, NIGHT)
    out = tmp_path_factory.mktemp("letters")
    summary = write_batch(conn, STRATEGY, NIGHT, out, write_pdfs=False)
    first = (summary.folder / "work_list.xlsx").read_bytes()
    time.sleep(2.1)  # past the zip format's 2-second clock
    summary = write_batch(conn, STRATEGY, NIGHT, out, write_pdfs=False)
    assert (summary.folder / "work_list.xlsx").read_bytes() == first  # a rerun: same bytes
    calls = conn.execute("select contact_id, account_id from contact_history where channel = "
                         "'phone' and status = 'planned' and snapshot_date = ?",
                         [NIGHT]).fetchall()
    return summary.folder, dict(calls)


def test_csv_starts_with_a_bom_and_reads_back_intact(batch):
    folder, calls = batch
    raw = (folder / "work_list.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert not raw[3:].startswith(b"\xef\xbb\xbf")
    with (folder / "work_list.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["contact_id"]: r["account_id"] for r in rows} == calls
    assert list(rows[0])[-len(DISPOSITION):] == DISPOSITION
    assert list(rows[0])[:5] == ["contact_id", "queue", "priority", "queue_rank", "expected_value"]
    # a queue (phone_early) ranked per jurisdiction: unscored, with no cure rate observed yet,
    # no task has an expected value, so the tie goes by days past due (all 40), then account id
    assert [(r["jurisdiction"], r["account_id"], r["queue_rank"]) for r in rows] == [
        ("CN", "AC00000001", "1"), ("CN", "AC00000003", "2"), ("US", "AC00000002", "1")]
    assert {r["expected_value"] for r in rows} == {""}
    by_account = {r["account_id"]: r for r in rows}
    assert by_account["AC00000001"]["full_name"] == "欧阳娜娜"
    assert by_account["AC00000002"]["full_name"] == "Mary O'Brien"
    assert by_account["AC00000003"]["full_name"] == "'" + HOSTILE  # neutralised
    for account, phone in PHONES.items():
        assert by_account[account]["mobile_phone"] == "tel:" + phone
    assert all(r[name] == "" for r in rows for name in DISPOSITION)


def test_xlsx_reads_back_with_text_cells_and_disposition_lists(batch):
    folder, calls = batch
    book = openpyxl.load_workbook(folder / "work_list.xlsx")
    sheet = book["work_list"]
    header = [c.value for c in sheet[1]]
    assert header[-len(DISPOSITION):] == DISPOSITION and header[0] == "contact_id"
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert {r["contact_id"].value: r["account_id"].value for r in rows} == calls
    by_account = {r["account_id"].value: r for r in rows}
    assert by_account["AC00000001"]["full_name"].value == "欧阳娜娜"
    for account, phone in PHONES.items():
        cell = by_account[account]["mobile_phone"]
        assert cell.value == phone and isinstance(cell.value, str) and cell.data_type == "s"
        assert cell.number_format == "@"  # stays text when a supervisor edits it
        assert by_account[account]["account_id"].data_type == "s"
        assert by_account[account]["account_last4"].value == account[-4:]
    hostile = by_account["AC00000003"]["full_name"]
    assert hostile.value == HOSTILE and hostile.data_type == "s"  # text, never a formula
    assert by_account["AC00000001"]["days_past_due"].value == 40
    assert by_account["AC00000001"]["past_due_amount"].value == 250
    assert all(r[name].value is None for r in rows for name in DISPOSITION)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}" \
                                     f"{len(rows) + 1}"
    lists = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    outcome = openpyxl.utils.get_column_letter(header.index("outcome") + 1)
    party = openpyxl.utils.get_column_letter(header.index("right_party_contact") + 1)
    assert lists[f"{party}2:{party}{len(rows) + 1}"] == '"yes,no"'
    assert "promise_to_pay" in lists[f"{outcome}2:{outcome}{len(rows) + 1}"].split(",")
    name_column = openpyxl.utils.get_column_letter(header.index("full_name") + 1)
    assert sheet.column_dimensions[name_column].width >= len(HOSTILE)
