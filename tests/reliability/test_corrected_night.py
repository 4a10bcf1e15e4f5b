"""A night rerun after its landing file was corrected: the corrected rows replace the old ones in
every table downstream, and contacts already planned are not planned again. The night's batch
was released by the first run, so it stands; the corrected and new letters go out in
`<night>.r2/` (tests/collections/test_released_immutable.py covers the letters themselves).

In-process runs of every stage but the risk report, on three hand-made accounts with their own
phones (a shared phone holds every contact). The book is too young for a model, so
account_scores is not part of this (the model stage's own rerun test covers it).
"""

import json

import duckdb
import pytest

from pipelines import settings
from pipelines.cli import run_nights
from tests.conftest import NIGHT, customer_row, snapshot_row, use_home, write_night
from tests.reliability.harness import FAST_GROUPS

CUSTOMERS = [customer_row(n, mobile_phone=f"+86138001380{n:02d}", email=f"c{n}@example.cn")
             for n in (1, 2, 3)]


def delinquent(number: int, dpd: int, past_due: str) -> dict:
    return snapshot_row(number=number, days_past_due=str(dpd), past_due_amount=past_due)


FIRST = [delinquent(1, 40, "300.00"), snapshot_row(number=2), delinquent(3, 35, "120.00")]
# The lender's correction: account 1 owed more, account 2 was late after all, account 3 had paid.
CORRECTED = [delinquent(1, 40, "350.00"), delinquent(2, 35, "200.00"), snapshot_row(number=3)]


def query(sql: str, params=None) -> list:
    with duckdb.connect(str(settings.warehouse_path()), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def contacts() -> dict[str, tuple]:
    return {key: (account, channel, status) for key, account, channel, status in query(
        "select idempotency_key, account_id, channel, status from contact_history")}


def sms_texts(home, folder: str = str(NIGHT)) -> dict[str, str]:
    """{account_id: SMS text} of one released batch folder."""
    lines = (home / "out" / "letters" / folder / "sms.jsonl").read_text().splitlines()
    by_letter = {row[0]: row[1] for row in query("select letter_id, account_id from contact_history")}
    return {by_letter[m["letter_id"]]: m["text"] for m in map(json.loads, lines)}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """One home for the module: the two runs take most of its time."""
    home = tmp_path_factory.mktemp("corrected")
    with pytest.MonkeyPatch.context() as env:
        use_home(env, home)
        yield home


@pytest.fixture(scope="module")
def corrected(home):
    """The contacts planned by the first run; the night has then been rerun corrected."""
    write_night(home, NIGHT, FIRST, CUSTOMERS)
    run_nights(NIGHT, NIGHT, FAST_GROUPS)
    before = contacts()
    assert {a for a, _, _ in before.values()} == {"AC00000001", "AC00000003"}
    assert "¥300.00" in sms_texts(home)["AC00000001"]
    released = sms_texts(home)
    write_night(home, NIGHT, CORRECTED, CUSTOMERS)
    run_nights(NIGHT, NIGHT, FAST_GROUPS)
    assert sms_texts(home) == released  # a released batch is never rewritten
    return before


def test_corrected_rows_replace_the_old_ones_downstream(home, corrected):
    assert query("select account_id, days_past_due, past_due_amount from account_snapshots "
                 "order by 1") == [("AC00000001", 40, 350), ("AC00000002", 35, 200),
                                   ("AC00000003", 0, 0)]
    assert query("select account_id, bucket, days_past_due from account_features order by 1") == [
        ("AC00000001", "M2", 40), ("AC00000002", "M2", 35), ("AC00000003", "M0", 0)]
    tiers = dict(query("select account_id, tier from collection_tiers"))
    assert tiers["AC00000003"] is None and tiers["AC00000002"] == tiers["AC00000001"] is not None
    assert query("select status from ingest_log where feed = 'account_snapshots' "
                 "order by ingested_at") == [("replaced",), ("loaded",)]
    correction = sms_texts(home, f"{NIGHT}.r2")  # the letters read the corrected rows
    assert "¥350.00" in correction["AC00000001"] and "¥200.00" in correction["AC00000002"]


def test_contacts_already_planned_are_not_planned_again(home, corrected):
    after = contacts()
    assert query("select idempotency_key from contact_history group by 1 having count(*) > 1") == []
    assert set(corrected) <= set(after)  # nothing planned is forgotten
    corrections = dict(query("select idempotency_key, corrects_letter_id from contact_history "
                             "where corrects_letter_id is not null"))
    again = [v for k, v in after.items()
             if k not in corrected and k not in corrections and v[0] == "AC00000001"]
    assert again == [], f"account 1 planned again after the correction: {again}"
    # account 1's released letters each get one correction naming it, with the new amount
    assert sorted(after[k][1] for k in corrections) == ["email", "sms"]
    assert {after[k][0] for k in corrections} == {"AC00000001"}
    assert {a for k, (a, _, _) in after.items()
            if k not in corrected and k not in corrections} == {"AC00000002"}


def test_a_corrected_to_current_account_gets_no_collection_message(home, corrected):
    assert "AC00000003" not in sms_texts(home, f"{NIGHT}.r2")
    # its letters were released by the first run: kept, marked no longer due, nothing new
    assert query("select channel, correction_note from contact_history "
                 "where account_id = 'AC00000003' order by channel") == [
        ("email", "no_longer_due"), ("sms", "no_longer_due")]
