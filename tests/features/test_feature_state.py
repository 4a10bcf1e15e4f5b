"""Carried feature state = the windowed query, on random books.

Each book is run night by night through the carried state (pipelines/lib/features/feature_state),
with accounts missing nights, whole-book missing nights, accounts opening and closing, corrections
of past nights (landed again, with and without a rerun of that night), reruns of the last night.
After every run the night's rows must equal, column by column, what the windowed
sql/features/account_features.sql computes from scratch on the history as it then is.
"""

import random
from datetime import UTC, date, datetime, timedelta

import duckdb
import pyarrow as pa
import pytest

from pipelines.lib.features.account_features import account_features
from pipelines.lib.features.feature_state import account_ranges, rebuild_features
from pipelines.lib.ingest.load import ensure_warehouse

FIRST_NIGHT = date(2024, 1, 1)
NIGHTS = 230
ACCOUNTS = 250
# nights compared with the windowed query: all once the 180-day window slides, every 7th before
COMPARED_FROM = 175


def account_rows(rng: random.Random, index: int, holder_changes: bool = False) -> list[dict]:
    """One account's daily snapshots: opens and may close at random, DPD walks, payments; with
    `holder_changes`, one account in five passes to another customer on a random night."""
    opened = rng.randrange(-30, NIGHTS - 10)
    handed_over = rng.randrange(NIGHTS) if holder_changes and rng.random() < 0.2 else None
    closes = rng.random() < 0.2
    last = rng.randrange(max(opened, 0) + 1, NIGHTS + 1) if closes else NIGHTS
    customer = f"C{index // 2 if rng.random() < 0.6 else 1000 + index}"
    limit, balance, dpd = float(rng.choice([0, 500, 1000, 3000])), rng.uniform(0, 900), 0
    rows = []
    for day in range(max(opened, 0), last):
        if rng.random() < 0.04:
            continue
        if rng.random() < 0.02:
            limit = float(rng.choice([0, 500, 1000, 3000]))
        payment = 0.0
        if dpd > 0:
            roll = rng.random()
            if roll < 0.05:
                dpd, payment = 0, round(rng.uniform(10, 200), 2)
            elif roll < 0.10:
                dpd, payment = max(dpd - 30, 1), round(rng.uniform(1, 50), 2)
            else:
                dpd += 1
        elif rng.random() < 0.03:
            dpd = rng.choice([1, 1, 25, 40, 70])
        elif rng.random() < 0.05:
            payment = round(rng.uniform(1, 100), 2)
        balance = max(0.0, balance + rng.uniform(-40, 40))
        night = FIRST_NIGHT + timedelta(days=day)
        if day == handed_over:
            customer = f"C{2000 + index}"
        rows.append({
            "snapshot_date": night, "account_id": f"A{index:04d}", "customer_id": customer,
            "product": "revolving", "open_date": FIRST_NIGHT + timedelta(days=opened),
            "status": "closed" if closes and day == last - 1 else "open", "currency": "CNY",
            "credit_limit": limit, "balance": round(balance, 2),
            "amount_due": round(rng.choice([0, 10, 50, 120]) * 1.0, 2),
            "past_due_amount": round(balance / 3, 2) if dpd else 0.0, "days_past_due": dpd,
            "next_due_date": None, "payment_amount": payment,
            "last_payment_date": night if payment else None,
        })
    return rows


def contact_rows(rng: random.Random) -> list[dict]:
    rows = []
    for k in range(400):
        night = FIRST_NIGHT + timedelta(days=rng.randrange(NIGHTS))
        index = rng.randrange(ACCOUNTS)
        kind = rng.choice(["promise_to_pay", "call_attempt", "call_connected", "complaint"])
        rows.append({
            "landing_date": night, "event_id": f"E{k}",
            "event_time": datetime.combine(night, datetime.min.time(), UTC),
            "customer_id": f"C{index // 2}",
            "account_id": None if rng.random() < 0.3 else f"A{index:04d}",
            "event_type": kind, "channel": None,
            "amount": round(rng.uniform(5, 150), 2) if kind == "promise_to_pay" else None,
            "until_date": night + timedelta(days=rng.randrange(1, 20))
            if kind == "promise_to_pay" else None})
    return rows


def append(conn, table: str, rows: list[dict]) -> None:
    staged = pa.Table.from_pylist(
        [row | {"source_file": "test", "source_row": i} for i, row in enumerate(rows, 1)])
    conn.append(table, staged.to_pandas(), by_name=True)


def land_again(conn, night: date) -> None:
    """The ingest's trace of a night landed again (what makes a carried state stale)."""
    conn.execute("insert into ingest_log values ('account_snapshots', $night, 'again.csv', 'x', "
                 "'loaded', 0, 0, 0, '1', null, now(), 0)", {"night": night})


def correct(conn, rng: random.Random, night: date) -> None:
    """Change DPD, balance, payment and limit of some accounts on an earlier night."""
    conn.execute("""
        update account_snapshots set
            days_past_due = case when hash(account_id, $seed) % 3 = 0
                then days_past_due + 35 else 0 end,
            balance = balance + 17,
            payment_amount = case when hash(account_id, $seed) % 2 = 0 then 33 else 0 end,
            credit_limit = credit_limit + 100
        where snapshot_date = $night and hash(account_id, $seed) % 4 = 0""",
                 {"night": night, "seed": rng.randrange(1000)})
    land_again(conn, night)


def windowed(conn, night: date) -> list[dict]:
    return sorted(account_features(conn, night, night).to_pylist(),
                  key=lambda row: row["account_id"])


def check_night(conn, night: date, paths: list, compare: bool = True) -> int:
    rebuild_features(conn, night, night)
    paths += conn.execute("select path from account_feature_state_night where state_night = $night",
                          {"night": night}).fetchall()[0]
    if not compare:
        return 0
    got = sorted(conn.sql("select * from account_features where snapshot_date = $night",
                          params={"night": night}).to_arrow_table().to_pylist(),
                 key=lambda row: row["account_id"])
    want = windowed(conn, night)
    assert len(got) == len(want), night
    for mine, theirs in zip(got, want, strict=True):
        assert mine.keys() == theirs.keys()
        for column in theirs:
            assert mine[column] == theirs[column], (night, theirs["account_id"], column)
    return len(got)


@pytest.mark.parametrize(("seed", "rows_per_pass"), [(1, None), (2, None), (3, None), (4, 70)])
def test_carried_state_equals_windowed(seed, rows_per_pass, monkeypatch):
    """Seed 4 also runs the carried state in account ranges of about 70 rows (about 6 passes a
    night), with accounts changing holder."""
    if rows_per_pass:
        monkeypatch.setenv("OVERDUE_STATE_ROWS_PER_PASS", str(rows_per_pass))
    rng = random.Random(seed)
    conn = duckdb.connect()
    ensure_warehouse(conn)
    skipped = {rng.randrange(20, NIGHTS) for _ in range(3)} | {rng.randrange(185, NIGHTS)}
    rows = [row for i in range(ACCOUNTS) for row in account_rows(rng, i, bool(rows_per_pass))
            if (row["snapshot_date"] - FIRST_NIGHT).days not in skipped]
    append(conn, "contact_events", contact_rows(rng))
    nights = sorted({row["snapshot_date"] for row in rows})
    paths = []
    checked = 0
    corrected = False
    for position, night in enumerate(nights):
        append(conn, "account_snapshots", [row for row in rows if row["snapshot_date"] == night])
        checked += check_night(conn, night, paths,
                               corrected or position >= COMPARED_FROM or position % 7 == 0)
        roll = rng.random()
        corrected = position > 10 and roll < 0.05
        if corrected:
            correct(conn, rng, nights[position - rng.randrange(1, 10)])
        elif position > 10 and roll < 0.10:
            earlier = position - rng.randrange(1, 6)
            correct(conn, rng, nights[earlier])
            for rerun in nights[earlier:position + 1]:
                checked += check_night(conn, rerun, paths)
        elif roll < 0.13:
            checked += check_night(conn, night, paths)
    assert paths.count("history") >= 2 and paths.count("carry") > NIGHTS * 0.8
    if rows_per_pass:
        assert len(account_ranges(conn, nights[-1], nights[-2])) >= 5
    assert checked > (NIGHTS - COMPARED_FROM) * 100
