"""The outcomes loop in real Dagster runs (issue 19): night N plans contacts and writes the work
list; on night N+1 the gateways' receipts land in contact_outcomes, a collector's filled work
list lands in work_list_outcomes, and N+1's plan changes accordingly.

Book (tests/collections/test_collections_dagster.py): account 2 T1 (SMS + e-mail), 3 T2 (SMS +
call), 4 T3 (letter + e-mail + call), 6 T4 (final notice + specialist call + field review).
Night N+1 is the same book a day later. What comes back:
  account 2: SMS delivered, e-mail bounced          -> its e-mail address is held bad_destination
  account 3: call, promise_to_pay 300.00 by N+8     -> promise_to_pay suppresses the account
  account 4: call, dispute_raised                   -> open_dispute stops every contact
  account 6: call, wrong_number (a collector's word) -> the number is held bad_destination for
                                                       calls and SMS
  account 5: call (US), hardship_claimed            -> no call (hardship), letters still go
  account 7: review task, a complaint via an agency -> complaint suppresses the account
  a receipt for a contact that does not exist        -> quarantined contact_id_known
"""

import csv
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import duckdb
import pytest

from tests.collections.dagster_night import materialize_night
from tests.collections.test_collections_dagster import NIGHT, book
from tests.conftest import use_home, write_csv, write_night

NEXT = NIGHT + timedelta(days=1)
SELECTION = ["account_snapshots", "customers", "contact_events", "contact_outcomes",
             "work_list_outcomes", "contact_outcomes_applied", "account_features",
             "collection_tiers", "contact_history", "letter_batches"]
OUTCOME_COLUMNS = ["outcome_id", "contact_id", "outcome_time", "outcome", "promised_amount",
                   "promised_date", "offer_id", "agent_id", "agency_id", "source"]


def run(night: date) -> dg.ExecuteInProcessResult:
    result = materialize_night(night, SELECTION)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return result


def rows(conn, sql: str, *params) -> list[tuple]:
    return conn.execute(sql, list(params)).fetchall()


def fill_work_list(home, night: date) -> list[dict]:
    """Night's work list, filled in by a collector, every column kept as it was written."""
    source = home / "out" / "letters" / str(night) / "work_list.csv"
    with source.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    filled = {
        "AC00000003": {"outcome": "promise_to_pay", "right_party_contact": "yes",
                       "promise_amount": "300.00", "promise_date": str(NIGHT + timedelta(days=8)),
                       "outcome_time": f"{NEXT}T10:15:00+08:00", "agent_id": "AG007"},
        "AC00000004": {"outcome": "dispute_raised", "right_party_contact": "yes",
                       "agent_id": "AG007"},
        "AC00000006": {"outcome": "wrong_number", "right_party_contact": "no",
                       "outcome_time": f"{NEXT}T11:00:00+08:00"},
        "AC00000005": {"outcome": "hardship_claimed", "right_party_contact": "yes",
                       "outcome_time": f"{NEXT}T09:30:00-05:00", "agent_id": "AG100"},
    }
    for line in lines:
        if line["queue"] != "field_visit_review":
            line.update(filled.get(line["account_id"], {}))
    return lines


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    home = tmp_path_factory.mktemp("outcomes_home")
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, home)
        snapshots, customers = book()
        earlier = NIGHT - timedelta(days=1)
        write_night(home, earlier, book(earlier)[0], customers)
        write_night(home, NIGHT, snapshots, customers)
        run(earlier)
        run(NIGHT)
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
            messages = {(a, c): i for a, c, i in rows(
                conn, "select account_id, channel, contact_id from contact_history "
                "where snapshot_date = ? and source = 'plan' and status = 'planned'", NIGHT)}
            [(review_7,)] = rows(conn, "select contact_id from contact_history where "
                                 "account_id = 'AC00000007' and channel = 'review'")
        write_night(home, NEXT, [r | {"snapshot_date": str(NEXT)} for r in snapshots], customers)
        receipts = [
            {"outcome_id": "gw-1", "contact_id": messages["AC00000002", "sms"],
             "outcome_time": f"{NEXT}T09:00:05+08:00", "outcome": "delivered", "source": "gateway"},
            {"outcome_id": "gw-2", "contact_id": messages["AC00000002", "email"],
             "outcome_time": f"{NEXT}T09:00:07+08:00", "outcome": "bounced", "source": "gateway"},
            {"outcome_id": "gw-3", "contact_id": "LT-NO-SUCH-LETTER",
             "outcome_time": f"{NEXT}T09:00:09+08:00", "outcome": "delivered", "source": "gateway"},
            {"outcome_id": "ag-4", "contact_id": review_7, "outcome_time": f"{NEXT}T15:00:00+08:00",
             "outcome": "complaint", "agency_id": "AGENCY-1", "source": "agency"},
        ]
        write_csv(home / "landing" / "contact_outcomes" / f"{NEXT}.csv", receipts, OUTCOME_COLUMNS)
        work_list = fill_work_list(home, NIGHT)
        write_csv(home / "landing" / "work_list_outcomes" / f"{NEXT}.csv", work_list,
                  list(work_list[0]))
        second = run(NEXT)
        yield home, messages, second


def warehouse(home) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)


def test_receipts_and_dispositions_move_contact_statuses(loop):
    home, _, _ = loop
    with warehouse(home) as conn:
        status = {(a, c): (s, o) for a, c, s, o in rows(
            conn, "select account_id, channel, status, outcome from contact_history "
            "where snapshot_date = ? and source = 'plan'", NIGHT)}
        agent = rows(conn, "select agent_id, outcome_at from contact_history "
                     "where snapshot_date = ? and account_id = 'AC00000003' and channel = 'phone'",
                     NIGHT)
    assert status["AC00000002", "sms"] == ("delivered", "delivered")
    assert status["AC00000002", "email"] == ("failed", "bounced")
    assert status["AC00000003", "phone"] == ("answered", "promise_to_pay")
    assert status["AC00000004", "phone"] == ("answered", "dispute_raised")
    assert status["AC00000006", "phone"] == ("answered", "wrong_party")
    assert status["AC00000005", "phone"] == ("answered", "hardship_claimed")
    with warehouse(home) as conn:
        assert rows(conn, "select status, outcome, agency_id from contact_history where "
                    "account_id = 'AC00000007' and channel = 'review'") == [
            ("answered", "complaint", "AGENCY-1")]
    # nothing came back for the letters: still planned
    assert status["AC00000004", "letter"] == ("planned", None)
    called = datetime(NEXT.year, NEXT.month, NEXT.day, 2, 15, tzinfo=UTC)  # 10:15 +08:00
    assert agent == [("AG007", called)]


def test_unknown_contact_is_quarantined_with_file_row_and_column(loop):
    home, _, _ = loop
    with warehouse(home) as conn:
        quarantined = rows(conn, "select source_file, row_number, column_name, rule from "
                           "quarantine where feed = 'contact_outcomes'")
        loaded = rows(conn, "select outcome_id from contact_outcomes where source <> 'work_list' "
                      "order by 1")
    assert [(q[1], q[2], q[3]) for q in quarantined] == [(3, "contact_id", "contact_id_known")]
    assert quarantined[0][0].endswith(f"contact_outcomes/{NEXT}.csv")
    assert loaded == [("ag-4",), ("gw-1",), ("gw-2",)]


def test_work_list_read_back_as_outcomes_without_its_personal_columns(loop):
    home, _, _ = loop
    with warehouse(home) as conn:
        merged = rows(conn, "select o.outcome_id, o.outcome, o.promised_amount, o.promised_date,"
                      " h.account_id from contact_outcomes as o join contact_history as h "
                      "using (contact_id) where o.source = 'work_list' order by h.account_id")
        kept = [r[0] for r in rows(conn, "select column_name from information_schema.columns "
                                   "where table_name = 'work_list_outcomes'")]
        extras = rows(conn, "select count(*) from work_list_outcomes "
                      "where extra_columns is not null")
    assert [(m[1], m[4]) for m in merged] == [("promise_to_pay", "AC00000003"),
                                              ("dispute_raised", "AC00000004"),
                                              ("hardship_claimed", "AC00000005"),
                                              ("wrong_party", "AC00000006")]
    assert merged[0][0].startswith("wl:CT") and merged[0][0].endswith(":promise_to_pay")
    assert str(merged[0][2]) == "300.00" and merged[0][3] == NIGHT + timedelta(days=8)
    assert "full_name" not in kept and "mobile_phone" not in kept and extras == [(0,)]


def test_next_nights_plan_follows_the_outcomes(loop):
    home, _, _ = loop
    with warehouse(home) as conn:
        tiers = {a: (r, ch) for a, r, ch in rows(
            conn, "select account_id, suppression_reason, channel_suppressions "
            "from collection_tiers where snapshot_date = ?", NEXT)}
        marked = rows(conn, "select channel, customer_id, destination_sha256 from "
                      "bad_destinations order by channel")
        planned_phone_6 = rows(conn, "select status from contact_history where snapshot_date = ?"
                               " and account_id = 'AC00000006' and channel = 'phone'", NEXT)
    assert tiers["AC00000003"][0] == "promise_to_pay"
    assert tiers["AC00000004"][0] == "open_dispute"
    assert tiers["AC00000007"][0] == "complaint"
    assert "phone=bad_destination" in (tiers["AC00000006"][1] or "")
    # the call is held for the hardship claim; the letter and e-mail are held by their cadence only
    assert "phone=hardship" in (tiers["AC00000005"][1] or ""), tiers["AC00000005"]
    assert "letter=hardship" not in tiers["AC00000005"][1]
    # the bounced address holds the next e-mail to it (judged before the cadence, so named)
    assert "email=bad_destination" in (tiers["AC00000002"][1] or "")
    assert planned_phone_6 == []
    import hashlib

    assert marked == [
        ("email", "CU0000002", hashlib.sha256(b"c2@example.cn").hexdigest()),
        ("phone", "CU0000006", hashlib.sha256(b"+8613800138006").hexdigest()),
        ("sms", "CU0000006", hashlib.sha256(b"+8613800138006").hexdigest())]


def test_summary_counts_outcomes_and_statuses_without_personal_data(loop):
    from pipelines.lib.summary import warehouse_summary

    home, _, _ = loop
    text = warehouse_summary(home / "warehouse.duckdb")
    assert ("contact outcomes: agency complaint 1, gateway bounced 1, gateway delivered 1,"
            " work_list dispute_raised 1,"
            " work_list hardship_claimed 1, work_list promise_to_pay 1, work_list wrong_party 1"
            ) in text
    assert "planned contacts by status: answered 5, delivered 1, failed 1," in text
    assert "unrecognised landing entries" not in text  # landing/work_list_outcomes/ is a feed
    assert "+86138" not in text and "example.cn" not in text
