"""Contact references (letter ids, call-task ids) stay unique when two idempotency keys of a night
share the 10 hex a reference shows. 40 bits collide about once in six nights at 600k contacts a
night: the W10M bench night failed `contact_history_keys_unique` on one such pair.
"""

import hashlib
from datetime import date, timedelta

from pipelines.lib.collections import tiering
from pipelines.lib.sql import render_sql
from tests.collections.book import customer, run_night, snapshot, warehouse

NIGHT = date(2026, 5, 3)
TAG = NIGHT.strftime("%y%m%d")


def m1_book(numbers: list[int]):
    """Accounts 12 days past due (tier T1: an SMS and an e-mail), one customer each."""
    snapshots = [snapshot(NIGHT, n, 12, next_due_date=NIGHT + timedelta(days=3))
                 for n in numbers]
    return warehouse(snapshots, [customer(n, NIGHT - timedelta(days=40)) for n in numbers])


def contacts(conn) -> dict[tuple[str, str], tuple[str, str, str | None]]:
    """(account, channel) -> (idempotency key, contact id, letter id) of the night's plan."""
    rows = conn.execute(
        "select account_id, channel, idempotency_key, contact_id, letter_id from contact_history "
        "where source = 'plan' and snapshot_date = ?", [NIGHT]).fetchall()
    return {(a, ch): (key, cid, lid) for a, ch, key, cid, lid in rows}


def duplicate_references(conn) -> list[tuple]:
    return conn.execute(render_sql("checks/assert_contact_history_keys_unique")).fetchall()


def sms_key_parts(conn, account: str) -> list[str]:
    """The parts the SMS contact's idempotency key is the sha256 of, after `account`."""
    treatment, template, locale, version = conn.execute(
        "select treatment, template, locale, template_version from contact_history "
        "where account_id = ? and channel = 'sms'", [account]).fetchone()
    return [NIGHT.isoformat(), treatment, "sms", template, locale, version or "-"]


def key_of(account: str, parts: list[str]) -> str:
    return hashlib.sha256("|".join([account, *parts]).encode()).hexdigest()


def test_a_key_sharing_a_stored_reference_gets_the_longer_reference():
    probe = m1_book([1])
    run_night(probe, NIGHT)
    key = contacts(probe)[("AC00000001", "sms")][0]
    probe.close()

    conn = m1_book([1])
    tiering.ensure_tables(conn)
    stored = f"{TAG}-{key[:10].upper()}"
    conn.execute(
        "insert into contact_history (contact_id, idempotency_key, snapshot_date, account_id, "
        "customer_id, channel, status, letter_id, source, batch_written, planned_at, updated_at) "
        "values (?, ?, ?, 'AC09999999', 'CU9999999', 'sms', 'sent', ?, 'plan', true, now(), "
        "now())", [stored, "f" * 64, NIGHT, stored])
    run_night(conn, NIGHT)
    planned = contacts(conn)
    assert planned[("AC00000001", "sms")] == (key, f"{TAG}-{key[:20].upper()}",
                                             f"{TAG}-{key[:20].upper()}")
    email_key, email_id, _ = planned[("AC00000001", "email")]
    assert email_id == f"{TAG}-{email_key[:10].upper()}"  # the rest keep 10 hex
    assert planned[("AC09999999", "sms")][1] == stored  # a stored reference never changes
    assert duplicate_references(conn) == []

    run_night(conn, NIGHT)
    assert contacts(conn) == planned
    conn.close()


def test_two_keys_of_one_night_sharing_10_hex_both_get_20():
    probe = m1_book([1])
    run_night(probe, NIGHT)
    parts = sms_key_parts(probe, "AC00000001")
    assert key_of("AC00000001", parts) == contacts(probe)[("AC00000001", "sms")][0]
    probe.close()
    seen: dict[str, int] = {}
    for number in range(1, 10_000_000):
        short = key_of(f"AC{number:08d}", parts)[:10]
        if short in seen:
            pair = [seen[short], number]
            break
        seen[short] = number
    del seen

    conn = m1_book(pair)
    run_night(conn, NIGHT)
    planned = contacts(conn)
    ids = []
    for number in pair:
        key, contact_id, letter_id = planned[(f"AC{number:08d}", "sms")]
        assert contact_id == letter_id == f"{TAG}-{key[:20].upper()}"
        ids.append(contact_id)
    assert ids[0][:17] == ids[1][:17] and ids[0] != ids[1]
    assert duplicate_references(conn) == []
    conn.close()
