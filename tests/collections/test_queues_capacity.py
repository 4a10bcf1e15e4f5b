"""Work-list queues that fit their staff (issue 17): each queue's tasks ranked by expected value,
the capacity filled in rank order, the rest recorded as overflow; a debtor's call cadence rests;
a rerun of the night gives the same rows. Hand-made books in a real DuckDB warehouse, through the
collections library as the assets run it (tests/collections/book.py).

Every account here is M3 (tier T3, formal: a letter, an e-mail, a phone_formal call task every
night) of its own CN customer, unless a case says otherwise; expected values are stated by hand:
(1 - probability) x past_due_amount, or the tier's 30-day cure rate x past_due_amount unscored.
"""

import csv
import json
from datetime import date, timedelta

import pytest
import yaml

from pipelines.lib.collections import tiering
from pipelines.lib.collections.batch import write_batch
from pipelines.lib.collections.strategy import STRATEGY_PATH, StrategyError, load_strategy
from tests.collections.book import append, customer, event, snapshot, warehouse

NIGHT = date(2026, 5, 3)
#: account -> (days past due, probability or None: unscored, past_due_amount)
BOOK = {
    1: (70, 0.5, 1000.0),   # EV 500
    2: (70, 0.2, 500.0),    # EV 400
    3: (70, 0.9, 3000.0),   # EV 300
    4: (70, 0.6, 1000.0),   # EV 400, ties with 2: the lower account id first
    5: (70, 0.0, 100.0),    # EV 100
    6: (70, None, 800.0),   # unscored: T3's 30-day cure rate 0.25 x 800 = EV 200
    7: (75, 0.5, 1000.0),   # EV 500, ties with 1: more days past due first
}
EXPECTED_VALUE = {1: 500.0, 2: 400.0, 3: 300.0, 4: 400.0, 5: 100.0, 6: 200.0, 7: 500.0}
RANKED = [7, 1, 2, 4, 3, 6, 5]  # by hand from the table above
CAPACITY = 3  # phone_formal in CN: 1 agent x 3 tasks


def strategy_file(tmp_path, *, capacity=None, **edits):
    """The default strategy with M3 -> T3 as its only tier rule, phone_formal in CN staffed
    `capacity` (1 agent x capacity tasks; 'unlimited' as is)."""
    raw = yaml.safe_load(STRATEGY_PATH.read_text(encoding="utf-8"))
    raw["tiers"] = [{"tier": "T3", "name": "formal", "buckets": ["M3"]}]
    if capacity is not None:
        raw["queues"]["CN"]["phone_formal"] = (
            capacity if capacity == "unlimited" else {"agents": 1, "tasks_per_agent": capacity})
    for key, value in edits.items():
        raw[key] = value
    path = tmp_path / "collection_strategy.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_strategy(path)


def account(number: int) -> str:
    return f"AC{number:08d}"


def night_once(conn, strategy, night, out=None):
    tiering.build_tiers(conn, strategy, night, night)
    tiering.plan_nights(conn, strategy, night, night)
    if out is not None:
        return write_batch(conn, strategy, night, out, write_pdfs=False)
    return None


def capacity_book(probability_of_3: float = 0.9):
    snapshots = [snapshot(NIGHT, n, dpd, past_due_amount=amount)
                 for n, (dpd, _, amount) in BOOK.items()]
    customers = [customer(n, NIGHT - timedelta(days=1)) for n in BOOK]
    scores = [{"snapshot_date": NIGHT, "account_id": account(n),
               "probability": probability_of_3 if n == 3 else p, "risk_grade": "D",
               "early_warning": False, "model_version": "test"}
              for n, (_, p, _) in BOOK.items() if p is not None]
    conn = warehouse(snapshots, customers, scores=scores)
    tiering.ensure_tables(conn)
    append(conn, "cure_rates", [{"snapshot_date": NIGHT - timedelta(days=1), "tier": "T3",
                                 "treatment": "formal_demand", "contacts_30d": 40,
                                 "cured_30d": 10, "cure_rate_30d": 0.25}])
    return conn


def tasks(conn, night=NIGHT) -> dict[str, tuple]:
    rows = conn.execute(
        "select account_id, status, held_rule, queue_rank, queue_capacity, expected_value "
        "from contact_history where source = 'plan' and channel = 'phone' and snapshot_date = ?",
        [night]).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.fixture(scope="module")
def capacity_night(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("capacity")
    strategy = strategy_file(tmp, capacity=CAPACITY)
    conn = capacity_book()
    summary = night_once(conn, strategy, NIGHT, tmp / "letters")
    return conn, strategy, summary, tmp


def test_capacity_is_filled_in_expected_value_order_and_the_rest_overflows(capacity_night):
    conn, _, _, _ = capacity_night
    found = tasks(conn)
    assert set(found) == {account(n) for n in BOOK}  # no task vanished
    for rank, number in enumerate(RANKED, 1):
        status, rule, queue_rank, capacity, value = found[account(number)]
        assert queue_rank == rank, number
        assert capacity == CAPACITY
        assert value == pytest.approx(EXPECTED_VALUE[number])
        if rank <= CAPACITY:
            assert (status, rule) == ("planned", None), number
        else:
            assert (status, rule) == ("overflow", "queue_full"), number
    # only the task overflows: the letter and the e-mail of an overflowed account still go
    letters = conn.execute(
        "select channel, status from contact_history where account_id = ? and channel <> "
        "'phone' order by channel", [account(5)]).fetchall()
    assert letters == [("email", "planned"), ("letter", "planned")]
    suppressions = conn.execute(
        "select account_id, channel_suppressions from collection_tiers where snapshot_date = ?",
        [NIGHT]).fetchall()
    assert {a: s for a, s in suppressions} == {
        account(n): ("phone=queue_full" if n in RANKED[CAPACITY:] else None) for n in BOOK}


def test_work_list_holds_the_capacity_in_rank_order_and_the_overflow_file_the_rest(
        capacity_night):
    _, _, summary, _ = capacity_night
    with (summary.folder / "work_list.csv").open(encoding="utf-8-sig", newline="") as handle:
        work = list(csv.DictReader(handle))
    assert [(r["account_id"], r["queue_rank"]) for r in work] == [
        (account(n), str(rank)) for rank, n in enumerate(RANKED[:CAPACITY], 1)]
    assert [float(r["expected_value"]) for r in work] == [500.0, 500.0, 400.0]
    with (summary.folder / "queue_overflow.csv").open(encoding="utf-8", newline="") as handle:
        overflow = list(csv.DictReader(handle))
    assert [(r["account_id"], r["queue"], r["queue_rank"], r["queue_capacity"])
            for r in overflow] == [(account(n), "phone_formal", str(rank), "3")
                                   for rank, n in enumerate(RANKED, 1) if rank > CAPACITY]
    assert [float(r["expected_value"]) for r in overflow] == [400.0, 300.0, 200.0, 100.0]
    assert [float(r["past_due_amount"]) for r in overflow] == [1000.0, 3000.0, 800.0, 100.0]
    assert "full_name" not in overflow[0] and "mobile_phone" not in overflow[0]
    counts = json.loads((summary.folder / "summary.json").read_text(encoding="utf-8"))
    assert counts["queues"] == {"CN/phone_formal": {"capacity": 3, "work_list": 3, "held": 0,
                                                    "overflow": 4}}


def test_a_rerun_of_the_night_gives_the_same_rows(capacity_night):
    conn, strategy, summary, tmp = capacity_night
    query = ("select contact_id, idempotency_key, account_id, channel, status, held_rule, "
             "queue_rank, queue_capacity, expected_value, planned_at, updated_at "
             "from contact_history order by contact_id")
    before = conn.execute(query).fetchall()
    files = {name: (summary.folder / name).read_bytes()
             for name in ("work_list.csv", "queue_overflow.csv")}
    again = night_once(conn, strategy, NIGHT, tmp / "letters")
    after = conn.execute(query).fetchall()
    # the batch stamps its own rows (updated_at of the released ones): compare without it there
    assert [r[:-1] for r in after] == [r[:-1] for r in before]
    overflowed = [r for r in before if r[4] == "overflow"]
    assert len(overflowed) == 4 and all(r in after for r in overflowed)  # untouched
    assert {name: (again.folder / name).read_bytes() for name in files} == files


def test_a_corrected_score_moves_a_task_into_the_capacity_and_another_out(tmp_path):
    strategy = strategy_file(tmp_path, capacity=CAPACITY)
    conn = capacity_book()
    night_once(conn, strategy, NIGHT)
    # the night is re-scored: account 3's probability 0.9 -> 0.1, EV 0.9 x 3000 = 2700, first
    conn.execute("update account_scores set probability = 0.1 where account_id = ?",
                 [account(3)])
    night_once(conn, strategy, NIGHT)
    found = tasks(conn)
    assert found[account(3)][:3] == ("planned", None, 1)
    assert found[account(3)][4] == pytest.approx(2700.0)
    assert found[account(2)][:3] == ("overflow", "queue_full", 4)  # was rank 3, planned
    assert [n for n in BOOK if found[account(n)][0] == "planned"] == [1, 3, 7]
    assert len(found) == len(BOOK)  # re-planned in place: no task added or lost


def test_an_unlimited_queue_ranks_but_never_overflows(tmp_path):
    strategy = strategy_file(tmp_path, capacity="unlimited")
    assert strategy.queue_capacity["CN"]["phone_formal"] is None
    conn = capacity_book()
    night_once(conn, strategy, NIGHT)
    found = tasks(conn)
    assert sorted((v[2], k) for k, v in found.items()) == [
        (rank, account(n)) for rank, n in enumerate(RANKED, 1)]
    assert {v[0] for v in found.values()} == {"planned"} and {v[3] for v in found.values()} == {
        None}


def test_every_queue_of_every_jurisdiction_holds_at_most_its_capacity(tmp_path):
    """M3 (phone_formal), M5 (specialist and, once per tier entry, field_visit_review) and
    written-off (recovery_legal_review) accounts of CN and US customers, every queue staffed for
    2 tasks: each (jurisdiction, queue) plans min(n, 2) in rank order 1..n and overflows the
    rest. Customer 1 holds two M3 accounts: one call task (same_debtor_call), so one rank."""
    raw = yaml.safe_load(STRATEGY_PATH.read_text(encoding="utf-8"))
    raw["tiers"] = [{"tier": "T5", "name": "write-off review", "buckets": ["WO"]},
                    {"tier": "T4", "name": "specialist", "buckets": ["M5"]},
                    {"tier": "T3", "name": "formal", "buckets": ["M3"]}]
    raw["queues"] = {code: {queue: {"agents": 1, "tasks_per_agent": 2} for queue in queues}
                     for code, queues in raw["queues"].items()}
    path = tmp_path / "collection_strategy.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    strategy = load_strategy(path)
    # account -> (days past due, customer, US?); 3 CN M3 debtors (4 accounts), 1 US M3, 3 CN M5,
    # 3 US written off
    book = {1: (70, 1, False), 2: (72, 1, False), 3: (70, 3, False), 4: (70, 4, False),
            5: (70, 5, True), 6: (130, 6, False), 7: (131, 7, False), 8: (132, 8, False),
            9: (200, 9, True), 10: (210, 10, True), 11: (220, 11, True)}
    snapshots = [snapshot(NIGHT, n, dpd, customer=holder, past_due_amount=100.0 * n,
                          **({"currency": "USD"} if us else {}))
                 for n, (dpd, holder, us) in book.items()]
    us_customer = {"country": "US", "preferred_language": "en-US",
                   "timezone": "America/Chicago", "mobile_phone": None}
    customers = [customer(holder, NIGHT - timedelta(days=1), **(us_customer if us else {}))
                 for holder, us in {h: u for _, h, u in book.values()}.items()]
    for row in customers:
        if row["country"] == "US":
            row["mobile_phone"] = f"+1415555{row['customer_id'][-4:]}"
    conn = warehouse(snapshots, customers)
    night_once(conn, strategy, NIGHT)
    rows = conn.execute(
        "select jurisdiction, queue, status, queue_rank from contact_history where source = "
        "'plan' and channel in ('phone', 'review') order by 1, 2, 4").fetchall()
    per_queue = {}
    for jurisdiction, queue, status, rank in rows:
        per_queue.setdefault((jurisdiction, queue), []).append((rank, status))
    two = ["planned", "planned"]
    assert {k: [s for _, s in v] for k, v in per_queue.items()} == {
        ("CN", "phone_formal"): [*two, "overflow"],  # debtors 1, 3, 4
        ("US", "phone_formal"): ["planned"],
        ("CN", "specialist"): [*two, "overflow"],
        ("CN", "field_visit_review"): [*two, "overflow"],
        ("US", "recovery_legal_review"): [*two, "overflow"],
    }
    assert all([r for r, _ in v] == list(range(1, len(v) + 1)) for v in per_queue.values())
    # the debtor's second account: no call task of its own, so never ranked or overflowed
    assert conn.execute("select channel_suppressions from collection_tiers where account_id = ?",
                        [account(1)]).fetchone()[0] == "phone=same_debtor_call"


def test_a_current_accounts_watch_task_is_worth_its_balance_at_risk(tmp_path):
    """Flagged current accounts with no payment due soon get the watch treatment, a
    credit_line_review task; nothing is past due, so a task is worth probability x balance:
    0.3 x 1000 = 300, 0.1 x 5000 = 500, 0.5 x 400 = 200. Two reviewers' worth of capacity."""
    raw = yaml.safe_load(STRATEGY_PATH.read_text(encoding="utf-8"))
    raw["tiers"] = [{"tier": "T0", "name": "early-warning watch", "buckets": ["M0"],
                     "early_warning": True, "treatment": "T0_watch"}]
    raw["queues"]["CN"]["credit_line_review"] = {"agents": 1, "tasks_per_agent": 2}
    path = tmp_path / "collection_strategy.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    strategy = load_strategy(path)
    book = {1: (0.3, 1000.0), 2: (0.1, 5000.0), 3: (0.5, 400.0)}
    snapshots = [snapshot(NIGHT, n, 0, balance=balance) for n, (_, balance) in book.items()]
    scores = [{"snapshot_date": NIGHT, "account_id": account(n), "probability": p,
               "risk_grade": "D", "early_warning": True, "model_version": "test"}
              for n, (p, _) in book.items()]
    conn = warehouse(snapshots, [customer(n, NIGHT - timedelta(days=1)) for n in book],
                     scores=scores)
    night_once(conn, strategy, NIGHT)
    rows = conn.execute(
        "select account_id, queue, status, queue_rank, expected_value from contact_history "
        "where source = 'plan' order by queue_rank").fetchall()
    assert [r[:4] for r in rows] == [
        (account(2), "credit_line_review", "planned", 1),
        (account(1), "credit_line_review", "planned", 2),
        (account(3), "credit_line_review", "overflow", 3)]
    assert [r[4] for r in rows] == pytest.approx([500.0, 300.0, 200.0])


# ---------------------------------------------------------------------------- call cadence
TEN = [NIGHT + timedelta(days=i) for i in range(10)]


def test_a_debtor_rests_after_a_run_of_calls(tmp_path):
    """Cadence 4 nights without a right-party contact or 7 in any case, then 3 of rest.
    Customer 1 never answers: called nights 1-4, rests 5-7, called 8-10. Customer 2 talks to a
    collector on night 3 (a call_connected event landed then): 4 nights from it (3-6), rests 7-9,
    called on 10. Customer 3 talks every night: 7 nights in a row (1-7), rests 8-10."""
    cadence = {"max_nights_without_contact": 4, "max_nights": 7, "rest_nights": 3}
    strategy = strategy_file(tmp_path, phone_cadence=cadence)
    assert strategy.phone_cadence == cadence
    snapshots = [snapshot(night, n, 65 + i) for i, night in enumerate(TEN) for n in (1, 2, 3)]
    customers = [customer(n, NIGHT - timedelta(days=1)) for n in (1, 2, 3)]
    events = [event("call_connected", TEN[2], 2, channel="phone"),
              *(event("call_connected", night, 3, channel="phone") for night in TEN)]
    conn = warehouse(snapshots, customers, events)
    for night in TEN:
        night_once(conn, strategy, night)
    called = conn.execute(
        "select account_id, list(snapshot_date order by snapshot_date) from contact_history "
        "where source = 'plan' and channel = 'phone' and status = 'planned' group by 1"
    ).fetchall()
    nights = {a: [TEN.index(d) + 1 for d in days] for a, days in called}
    assert nights == {account(1): [1, 2, 3, 4, 8, 9, 10], account(2): [1, 2, 3, 4, 5, 6, 10],
                      account(3): [1, 2, 3, 4, 5, 6, 7]}
    rested = conn.execute(
        "select account_id, list(snapshot_date order by snapshot_date) from collection_tiers "
        "where channel_suppressions like '%phone=call_rest%' group by 1").fetchall()
    assert {a: [TEN.index(d) + 1 for d in days] for a, days in rested} == {
        account(1): [5, 6, 7], account(2): [7, 8, 9], account(3): [8, 9, 10]}
    # the treatment's messages went on: the letter and e-mail of the tier entry, night 1
    assert conn.execute("select count(*) from contact_history where channel in ('letter', "
                        "'email') and status = 'planned'").fetchone()[0] == 6


# ---------------------------------------------------------------------------- the strategy
@pytest.mark.parametrize(("edit", "key"), [
    (lambda r: r["queues"]["CN"].pop("phone_early"), "queues.CN.phone_early: missing"),
    (lambda r: r["queues"].pop("US"), "queues.US: missing"),
    (lambda r: r.pop("queues"), "queues: missing: treatments send tasks to"),
    (lambda r: r["queues"]["CN"].update(specialist={"agents": -1, "tasks_per_agent": 10}),
     "queues.CN.specialist.agents"),
    (lambda r: r["queues"]["CN"].update(specialist={"agents": 2}),
     "queues.CN.specialist.tasks_per_agent: missing"),
    (lambda r: r["queues"]["CN"].update(specialist="lots"), "queues.CN.specialist: expected"),
    (lambda r: r["queues"].update(HK={}), "queues.HK: unknown key"),
    (lambda r: r["phone_cadence"].update(max_nights_without_contact=0),
     "phone_cadence.max_nights_without_contact: expected at least 1"),
    (lambda r: r["phone_cadence"].update(max_nights=3),
     "phone_cadence.max_nights: expected at least max_nights_without_contact"),
    (lambda r: r["phone_cadence"].pop("rest_nights"), "phone_cadence.rest_nights: missing"),
    (lambda r: r["phone_cadence"].update(rest_after=2), "phone_cadence.rest_after: unknown key"),
])
def test_an_invalid_queue_or_cadence_names_the_key(tmp_path, edit, key):
    raw = yaml.safe_load(STRATEGY_PATH.read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "collection_strategy.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(StrategyError) as error:
        load_strategy(path)
    assert key in str(error.value)


def test_the_default_capacity_is_agents_times_tasks_per_agent():
    raw = yaml.safe_load(STRATEGY_PATH.read_text(encoding="utf-8"))
    strategy = load_strategy()
    for code, queues in raw["queues"].items():
        for queue, spec in queues.items():
            expected = None if spec == "unlimited" else spec["agents"] * spec["tasks_per_agent"]
            assert strategy.queue_capacity[code][queue] == expected, (code, queue)


def test_a_contact_history_from_before_the_queues_gains_their_columns():
    """A warehouse built before queues had capacity keeps its contacts and gains queue_rank,
    queue_capacity and expected_value, null on the rows it held."""
    import duckdb

    from pipelines.lib.collections import tiering
    from pipelines.lib.sql import render_sql

    conn = duckdb.connect()
    conn.execute(render_sql("collections/create_contact_history"))
    conn.execute("alter table contact_history drop column queue_rank")
    conn.execute("alter table contact_history drop column queue_capacity")
    conn.execute("alter table contact_history drop column expected_value")
    conn.execute(
        "insert into contact_history (contact_id, idempotency_key, snapshot_date, customer_id, "
        "channel, status, source, planned_at, updated_at) values ('CT1', 'k1', "
        "date '2026-05-01', 'C1', 'phone', 'planned', 'plan', now(), now())")
    tiering.ensure_tables(conn)
    tiering.ensure_tables(conn)  # a second time adds nothing and fails on nothing
    row = conn.execute("select contact_id, queue_rank, queue_capacity, expected_value "
                       "from contact_history").fetchall()
    assert row == [("CT1", None, None, None)]
