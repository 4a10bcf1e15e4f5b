"""The contact_outcomes and work_list_outcomes contracts (issue 19) in both engines: each
conditional rule, the rule that reads contact_history, and idempotent loading (a key loaded on
another night is skipped and counted, the same file twice changes nothing)."""

from datetime import timedelta

import duckdb
import pytest

from pipelines.lib.ingest.contracts import load_contract
from pipelines.lib.ingest.ge_suite import validate_with_ge
from pipelines.lib.ingest.landing import read_landing_file
from pipelines.lib.ingest.load import ingest_file
from pipelines.lib.ingest.row_checks import flagged_rows_by_rule, reference_values, run_row_checks
from pipelines.lib.warehouse import run_sql
from tests.conftest import NIGHT, write_csv

COLUMNS = ["outcome_id", "contact_id", "outcome_time", "outcome", "promised_amount",
           "promised_date", "offer_id", "agent_id", "agency_id", "source"]
KNOWN = ("LT-0001", "CT20260502-aa", "CT20260502-bb")


def outcome(number: int, **overrides) -> dict:
    row = {"outcome_id": f"gw-{number}", "contact_id": "LT-0001",
           "outcome_time": f"{NIGHT}T09:30:00+08:00", "outcome": "delivered",
           "promised_amount": "", "promised_date": "", "offer_id": "", "agent_id": "",
           "agency_id": "", "source": "gateway"}
    return row | overrides


def promise(number: int, **overrides) -> dict:
    return outcome(number, contact_id="CT20260502-aa", outcome="promise_to_pay",
                   promised_amount="300.00", promised_date=str(NIGHT + timedelta(days=7)),
                   agent_id="AG007", source="work_list") | overrides


# (defect, the row, the one rule it must break)
DEFECTS = [
    ("promise without amount", promise(2, promised_amount=""), {"promised_amount_required_for_promise"}),
    ("promise without date", promise(2, promised_date=""), {"promised_date_required_for_promise"}),
    ("promise of nothing", promise(2, promised_amount="0.00"), {"promised_amount_minimum"}),
    ("amount on a receipt", outcome(2, promised_amount="10.00"), {"promised_amount_only_for_promise"}),
    ("date on a receipt", outcome(2, promised_date=str(NIGHT)), {"promised_date_only_for_promise"}),
    ("promised for yesterday", promise(2, promised_date=str(NIGHT - timedelta(days=1))),
     {"promised_date_not_before_outcome_day"}),
    ("offer accepted, no offer", outcome(2, outcome="offer_accepted"), {"offer_id_required_for_offer"}),
    ("offer declined, no offer", outcome(2, outcome="offer_declined"), {"offer_id_required_for_offer"}),
    ("unknown contact", outcome(2, contact_id="LT-9999"), {"contact_id_known"}),
    ("outcome tomorrow", outcome(2, outcome_time=f"{NIGHT + timedelta(days=2)}T09:00:00+08:00"),
     {"outcome_time_not_after_file_date"}),
    ("unknown outcome", outcome(2, outcome="opened"), {"outcome_valid_values"}),
    ("unknown source", outcome(2, source="sftp"), {"source_valid_values"}),
    ("no outcome time", outcome(2, outcome_time=""), {"outcome_time_required"}),
]
CLEAN = [
    outcome(10),
    promise(11),
    # promised the same day the call was made, in the call's own offset (23:30 +08:00 is
    # 15:30 UTC the same day; the day is read in the offset it was given with)
    promise(12, outcome_time=f"{NIGHT}T23:30:00+08:00", promised_date=str(NIGHT)),
    outcome(13, contact_id="CT20260502-bb", outcome="offer_accepted", offer_id="OF-1"),
    outcome(14, contact_id="CT20260502-bb", outcome="no_answer", agent_id="AG007"),
]


def _warehouse(contacts=KNOWN) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    if contacts is not None:
        conn.execute("create table contact_history (contact_id varchar)")
        conn.executemany("insert into contact_history values (?)", [[c] for c in contacts])
    return conn


def _engines(tmp_path, rows, feed="contact_outcomes", columns=COLUMNS, contacts=KNOWN):
    contract = load_contract(feed)
    path = write_csv(tmp_path / "landing" / feed / f"{NIGHT}.csv", rows, columns)
    landed = read_landing_file(path, contract)
    conn = _warehouse(contacts)
    run_row_checks(conn, contract, landed)
    by_sql = flagged_rows_by_rule(conn)
    by_ge = {o.rule: o.row_numbers for o in validate_with_ge(
        landed.table, contract, NIGHT, complete=True, references=reference_values(conn, contract))
        if o.row_numbers}
    return by_sql, by_ge


@pytest.mark.parametrize(("defect", "row", "rules"), DEFECTS, ids=[d[0] for d in DEFECTS])
def test_each_outcome_defect_breaks_exactly_its_rule_in_both_engines(tmp_path, defect, row, rules):
    by_sql, by_ge = _engines(tmp_path, [outcome(1), row, promise(3)])
    assert set(by_sql) == rules and all(numbers == {2} for numbers in by_sql.values())
    assert by_ge == by_sql


def test_clean_receipts_promises_and_offers_pass_both_engines(tmp_path):
    by_sql, by_ge = _engines(tmp_path, CLEAN)
    assert by_sql == {} and by_ge == {}


def test_before_any_contact_was_planned_every_contact_is_unknown(tmp_path):
    by_sql, by_ge = _engines(tmp_path, CLEAN, contacts=None)
    assert by_sql == {"contact_id_known": {1, 2, 3, 4, 5}} and by_ge == by_sql


WORK_COLUMNS = ["contact_id", "queue", "full_name", "mobile_phone", "outcome",
                "right_party_contact", "promise_amount", "promise_date", "note", "outcome_time",
                "offer_id", "agent_id"]


def task(contact: str, **filled) -> dict:
    row = {name: "" for name in WORK_COLUMNS} | {
        "contact_id": contact, "queue": "phone_early", "full_name": "欧阳娜娜",
        "mobile_phone": "tel:+8613800138000"}
    return row | filled


WORK_DEFECTS = [
    ("promise without amount", task("CT20260502-bb", outcome="promise_to_pay",
                                    promise_date=str(NIGHT)), {"promise_amount_required_for_promise"}),
    ("amount without promise", task("CT20260502-bb", outcome="refused", promise_amount="5.00"),
     {"promise_amount_only_for_promise"}),
    ("promise before the call", task("CT20260502-bb", outcome="promise_to_pay",
                                     promise_amount="5.00", promise_date=str(NIGHT),
                                     outcome_time=f"{NIGHT + timedelta(days=1)}T09:00:00+08:00"),
     {"promise_date_not_before_outcome_day"}),
    ("offer accepted, no offer", task("CT20260502-bb", outcome="offer_accepted"),
     {"offer_id_required_for_offer"}),
    ("a collector's typo", task("CT20260502-bb", outcome="promised"), {"outcome_valid_values"}),
    ("a task of another warehouse", task("CT-ELSEWHERE", outcome="refused"), {"contact_id_known"}),
]


@pytest.mark.parametrize(("defect", "row", "rules"), WORK_DEFECTS, ids=[d[0] for d in WORK_DEFECTS])
def test_each_work_list_defect_breaks_exactly_its_rule_in_both_engines(tmp_path, defect, row,
                                                                       rules):
    rows = [task("CT20260502-aa", outcome="promise_to_pay", promise_amount="300.00",
                 promise_date=str(NIGHT + timedelta(days=3))), row, task("LT-0001")]
    by_sql, by_ge = _engines(tmp_path, rows, "work_list_outcomes", WORK_COLUMNS)
    assert set(by_sql) == rules and all(numbers == {2} for numbers in by_sql.values())
    assert by_ge == by_sql


def _load(conn, tmp_path, night, rows):
    contract = load_contract("contact_outcomes")
    path = write_csv(tmp_path / "landing" / "contact_outcomes" / f"{night}.csv", rows, COLUMNS)
    return ingest_file(conn, contract, path)


def _table(conn):
    return conn.execute("select landing_date, outcome_id, contact_id, outcome from "
                        "contact_outcomes order by outcome_id").fetchall()


def test_the_same_file_twice_changes_nothing(tmp_path):
    conn = _warehouse()
    first = _load(conn, tmp_path, NIGHT, CLEAN)
    before = _table(conn)
    again = _load(conn, tmp_path, NIGHT, CLEAN)
    assert (first.status, first.rows_loaded, again.status) == ("loaded", 5, "unchanged")
    assert _table(conn) == before and len(before) == 5


def test_a_receipt_resent_on_a_later_night_is_skipped_and_counted(tmp_path):
    conn = _warehouse()
    _load(conn, tmp_path, NIGHT, [outcome(1), outcome(2, outcome="sent")])
    later = NIGHT + timedelta(days=1)
    # the gateway resends gw-1 and gw-2 with one new receipt and one bad row
    result = _load(conn, tmp_path, later, [outcome(1), outcome(2, outcome="sent"),
                                           outcome(3, contact_id="CT20260502-bb"),
                                           outcome(4, contact_id="LT-9999")])
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined,
            result.rows_skipped) == (4, 1, 1, 2)
    assert [(d, i) for d, i, *_ in _table(conn)] == [(NIGHT, "gw-1"), (NIGHT, "gw-2"),
                                                     (later, "gw-3")]
    logged = conn.execute("select rows_read, rows_loaded, rows_quarantined, rows_skipped, message "
                          "from ingest_log where snapshot_date = ?", [later]).fetchone()
    assert logged[:4] == (4, 1, 1, 2) and "2 row(s) skipped" in logged[4]
    offending = run_sql(conn, "checks/assert_ingest_rows_reconcile",
                        {"feed": "contact_outcomes", "start_date": NIGHT, "end_date": later},
                        table="contact_outcomes", partition_column="landing_date").fetchall()
    assert offending == []
    # the later night rerun with a corrected file: still one copy of every receipt
    corrected = _load(conn, tmp_path, later, [outcome(1), outcome(3, contact_id="CT20260502-bb",
                                                                  outcome="failed")])
    assert (corrected.rows_loaded, corrected.rows_skipped) == (1, 1)
    assert [(i, o) for _, i, _, o in _table(conn)] == [("gw-1", "delivered"), ("gw-2", "sent"),
                                                       ("gw-3", "failed")]


def test_an_outcome_for_a_contact_planned_later_loads_when_the_night_runs_again(tmp_path):
    """The backfill limit: the contact did not exist when the file first loaded."""
    conn = _warehouse()
    rows = [outcome(1), outcome(2, contact_id="CT20260503-later")]
    first = _load(conn, tmp_path, NIGHT, rows)
    assert (first.rows_loaded, first.rows_quarantined) == (1, 1)
    conn.execute("insert into contact_history values ('CT20260503-later')")
    again = _load(conn, tmp_path, NIGHT, rows)
    assert (again.status, again.rows_loaded, again.rows_quarantined) == ("loaded", 2, 0)
    assert conn.execute("select count(*) from quarantine where feed = 'contact_outcomes'"
                        ).fetchone()[0] == 0
