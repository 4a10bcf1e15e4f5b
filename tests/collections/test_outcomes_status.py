"""contact_history's status from the contact_outcomes feed (sql/collections/apply_contact_outcomes.sql):
forward only, the first final status stays, held contacts keep theirs, a rerun changes nothing;
bad_destinations keeps the sha256 of the destination the contact went to, never the value."""

import hashlib
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from pipelines.lib.collections.outcomes import apply_outcomes
from pipelines.lib.collections.tiering import ensure_tables
from pipelines.lib.ingest.load import ensure_warehouse

N1 = date(2026, 5, 3)
N2, N3 = N1 + timedelta(days=1), N1 + timedelta(days=2)
# contact, channel, status when planned (customer CU1 for all)
CONTACTS = [("LT-SMS", "sms", "planned"), ("CT-CALL", "phone", "planned"),
            ("LT-LETTER", "letter", "planned"), ("CT-HELD", "phone", "held"),
            ("LT-MAIL", "email", "planned")]


@pytest.fixture
def conn():
    conn = duckdb.connect()
    ensure_warehouse(conn)
    ensure_tables(conn)
    planned_at = datetime(2026, 5, 2, 20, tzinfo=UTC)
    conn.executemany(
        "insert into contact_history (contact_id, idempotency_key, snapshot_date, account_id,"
        " customer_id, channel, status, source, planned_at, updated_at) values"
        " (?, ?, ?, 'AC1', 'CU1', ?, ?, 'plan', ?, ?)",
        [[c, f"key-{c}", date(2026, 5, 2), ch, s, planned_at, planned_at] for c, ch, s in CONTACTS])
    conn.executemany(
        "insert into customers_history (landing_date, customer_id, postal_address, email,"
        " source_file, source_row) values (?, 'CU1', ?, ?, 'c.csv', 1)",
        [[date(2026, 5, 1), "朝阳区建国路88号", "old@example.cn"],
         [N2, "海淀区中关村1号", "new@example.cn"]])  # a later version: moved, new address
    return conn


def outcomes(conn, night: date, rows: list[tuple]) -> None:
    conn.executemany(
        "insert into contact_outcomes (landing_date, outcome_id, contact_id, outcome_time, outcome,"
        " agent_id, source, source_file, source_row) values (?, ?, ?, ?, ?, ?, 'gateway', 'o.csv', ?)",
        [[night, oid, contact, datetime(night.year, night.month, night.day, hour, tzinfo=UTC),
          outcome, agent, i] for i, (oid, contact, hour, outcome, agent) in enumerate(rows, 1)])


def statuses(conn) -> dict[str, tuple]:
    return {c: (s, o, a) for c, s, o, a in conn.execute(
        "select contact_id, status, outcome, agent_id from contact_history").fetchall()}


def test_status_moves_forward_only_and_the_first_final_status_stays(conn):
    outcomes(conn, N1, [("o1", "LT-SMS", 9, "sent", None), ("o2", "CT-CALL", 10, "no_answer", "AG1"),
                        ("o3", "LT-LETTER", 9, "returned", None),
                        ("o4", "CT-HELD", 11, "promise_to_pay", "AG2")])
    apply_outcomes(conn, N1, N1)
    assert statuses(conn) == {
        "LT-SMS": ("sent", "sent", None), "CT-CALL": ("attempted", "no_answer", "AG1"),
        "LT-LETTER": ("failed", "returned", None), "CT-HELD": ("held", "promise_to_pay", "AG2"),
        "LT-MAIL": ("planned", None, None)}
    outcomes(conn, N2, [("o5", "LT-SMS", 8, "delivered", None),
                        ("o6", "CT-CALL", 9, "right_party_contact", None),
                        ("o7", "LT-LETTER", 9, "delivered", None)])
    apply_outcomes(conn, N2, N2)
    # a late receipt older than what is known: the status does not go back, the outcome is the latest
    outcomes(conn, N3, [("o8", "LT-SMS", 7, "sent", None), ("o9", "CT-CALL", 9, "no_answer", None)])
    apply_outcomes(conn, N3, N3)
    after = statuses(conn)
    assert after["LT-SMS"] == ("delivered", "sent", None)
    assert after["CT-CALL"] == ("answered", "no_answer", "AG1")
    assert after["LT-LETTER"] == ("failed", "delivered", None)  # failed first: stays failed
    before = conn.execute("select * from contact_history order by contact_id").fetchall()
    apply_outcomes(conn, N1, N3)  # the range rerun: nothing changes
    assert conn.execute("select * from contact_history order by contact_id").fetchall() == before


def test_a_returned_letter_marks_the_address_it_went_to_by_sha256_only(conn):
    outcomes(conn, N2, [("o1", "LT-LETTER", 9, "returned", None), ("o2", "LT-MAIL", 9, "bounced", None),
                        ("o3", "LT-SMS", 9, "delivered", None)])
    counts = apply_outcomes(conn, N2, N2)
    marked = conn.execute("select channel, destination_sha256, noted_on, outcome from "
                          "bad_destinations order by channel").fetchall()
    # the contact went out on 2026-05-02 with the 05-01 record, not the one that landed on N2
    assert marked == [
        ("email", hashlib.sha256(b"old@example.cn").hexdigest(), N2, "bounced"),
        ("letter", hashlib.sha256("朝阳区建国路88号".encode()).hexdigest(), N2, "returned")]
    assert counts["bad_destinations"] == {"email": 1, "letter": 1}
    apply_outcomes(conn, N2, N2)
    assert conn.execute("select count(*) from bad_destinations").fetchone()[0] == 2


def test_a_work_list_sourced_row_of_the_outcomes_feed_survives_the_work_list_remerge(tmp_path):
    """Only rows merged from a returned work list are replaced when it is merged again; a row
    the contact_outcomes feed itself carried with source work_list stays."""
    import duckdb

    from pipelines.lib.warehouse import run_sql

    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    conn.execute("create table contact_outcomes (outcome_id varchar, source varchar, "
                 "landing_date date, source_file varchar)")
    conn.execute("create table ingest_log (feed varchar, source_file varchar)")
    conn.execute("insert into ingest_log values ('work_list_outcomes', '/l/work_list_outcomes/"
                 "2026-01-02.csv'), ('contact_outcomes', '/l/contact_outcomes/2026-01-02.csv')")
    conn.execute("insert into contact_outcomes values "
                 "('wl:CT1:no_answer', 'work_list', '2026-01-02', '/l/work_list_outcomes/2026-01-02.csv'),"
                 "('R-77', 'work_list', '2026-01-02', '/l/contact_outcomes/2026-01-02.csv')")
    run_sql(conn, "collections/delete_work_list_outcomes",
            {"start_date": "2026-01-02", "end_date": "2026-01-02"})
    assert [r[0] for r in conn.execute("select outcome_id from contact_outcomes").fetchall()] \
        == ["R-77"]
