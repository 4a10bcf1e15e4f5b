"""Outside agencies on hand-made books in a real DuckDB warehouse: assignment by share, rotation,
every recall reason, the lender's contacts stopping while placed, the placement files, recovery
figures worked out by hand."""

import csv
import stat
from datetime import date, timedelta
from decimal import Decimal

import pytest
import yaml

from pipelines.lib.collections import agencies
from pipelines.lib.collections.strategy import STRATEGY_PATH, StrategyError, load_strategy
from pipelines.lib.report.render import _environment, strings
from pipelines.lib.report.sections import agencies as section
from pipelines.lib.warehouse import offending_rows
from tests.collections import book

N0 = date(2026, 3, 1)


def night(i: int) -> date:
    return N0 + timedelta(days=i)


def strategy_with(tmp_path, **agency_changes):
    raw = yaml.safe_load(STRATEGY_PATH.read_text(encoding="utf-8"))
    for key, value in agency_changes.items():
        if value is None and key in ("recall_on",):
            raw["agencies"].pop(key)
        else:
            raw["agencies"][key] = value
    path = tmp_path / "strategy.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_strategy(path)


def placements(conn) -> list[dict]:
    cursor = conn.execute("select * from agency_placements order by account_id, placed_night")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def m6_book(numbers, nights: int, *, dpd: int = 160, per_night=None, country="CN",
            currency="CNY", events=()):
    """Accounts M6 (dpd 160 + night) on `nights` nights; `per_night(i, number)` overrides."""
    snaps, customers = [], []
    for n in numbers:
        customers.append(book.customer(n, N0, country=country))
        for i in range(nights):
            values = {"currency": currency}
            if per_night:
                values |= per_night(i, n) or {}
            days = values.pop("dpd", dpd + i)
            snaps.append(book.snapshot(night(i), n, days, **values))
    return book.warehouse(snaps, customers, list(events))


def test_agencies_get_their_shares_of_a_few_hundred_accounts_and_keep_them_on_a_rerun():
    cn, us = range(1, 401), range(1001, 1201)
    conn = m6_book(cn, 1)
    snaps = [book.snapshot(N0, n, 170, currency="USD") for n in us]
    book.insert(conn, "account_snapshots", snaps)
    book.insert(conn, "customers_history", [book.customer(n, N0, country="US") for n in us])
    conn.execute("drop table account_features")
    book_features = book.account_features(conn, N0, N0)  # noqa: F841 (read by name below)
    conn.execute("create table account_features as select * from book_features")
    placed = agencies.build_placements(conn, book.STRATEGY, N0, N0)
    assert placed == 600
    shares = dict(conn.execute(
        "select agency_id, count(*) from agency_placements group by 1").fetchall())
    # 0.6 / 0.4 of 400 and 0.5 / 0.5 of 200: within 3 standard deviations of the binomial
    assert abs(shares["cn_huaxia_recovery"] / 400 - 0.6) < 3 * (0.24 / 400) ** 0.5
    assert shares["cn_huaxia_recovery"] + shares["cn_zhongxin_collect"] == 400
    assert abs(shares["us_lakeside_recovery"] / 200 - 0.5) < 3 * (0.25 / 200) ** 0.5
    assert shares["us_lakeside_recovery"] + shares["us_summit_credit"] == 200
    first = {p["account_id"]: p["agency_id"] for p in placements(conn)}
    agencies.build_placements(conn, book.STRATEGY, N0, N0)
    assert {p["account_id"]: p["agency_id"] for p in placements(conn)} == first
    row = placements(conn)[0]
    assert row["placement_id"] == "PL20260301-AC00000001"
    assert row["status"] == "active" and row["rotation_due"] == N0 + timedelta(days=90)
    assert row["balance_at_placement"] == Decimal("5432.10")


def test_a_placement_rotates_to_another_agency_after_rotation_days(tmp_path):
    strategy = strategy_with(tmp_path, rotation_days=3)
    conn = m6_book(range(1, 21), 7)
    agencies.build_placements(conn, strategy, night(0), night(6))
    for account in range(1, 21):
        rows = [p for p in placements(conn) if p["account_id"] == f"AC{account:08d}"]
        # placed night 0, rotated night 3 to the other agency, rotated back night 6
        assert [(p["placed_night"], p["status"], p["recalled_night"]) for p in rows] == [
            (night(0), "rotated", night(3)), (night(3), "rotated", night(6)),
            (night(6), "active", None)]
        assert [p["recall_reason"] for p in rows] == ["rotation", "rotation", None]
        assert rows[0]["agency_id"] != rows[1]["agency_id"] != rows[2]["agency_id"]
        assert rows[1]["rotation_due"] == night(6)
    check = {"buckets": ["M5", "M6", "WO"]}
    assert offending_rows(conn, "assert_agency_placements_consistent", check).empty
    # the check can fail: a rotation kept with its agency, a second active placement
    conn.execute("update agency_placements set agency_id = (select agency_id from "
                 "agency_placements where placement_id = 'PL20260301-AC00000001') "
                 "where placement_id = 'PL20260304-AC00000001'")
    conn.execute("update agency_placements set status = 'active', recalled_night = null, "
                 "recall_reason = null where placement_id = 'PL20260304-AC00000002'")
    found = offending_rows(conn, "assert_agency_placements_consistent", check)
    # AC1's night-3 placement now shares its agency with both its neighbours
    assert sorted(zip(found["problem"], found["account_id"], strict=True)) == [
        ("rotated_to_the_same_agency", "AC00000001"), ("rotated_to_the_same_agency", "AC00000001"),
        ("two_active", "AC00000002")]


def test_each_recall_reason_ends_the_placement_the_night_it_lands(tmp_path):
    events = [book.event("dispute_opened", night(2), 2), book.event("complaint", night(2), 3),
              book.event("bankruptcy", night(2), 4, account=False),
              book.event("deceased", night(2), 5, account=False),
              # a complaint and a payment the same night: the complaint is the reason
              book.event("complaint", night(2), 7)]

    def per_night(i, n):
        if n in (1, 7) and i == 2:
            return {"payment_amount": 300.0}
        if n == 6 and i >= 2:
            return {"dpd": 130}  # M5: still a placed bucket
        if n == 8 and i >= 2:
            return {"dpd": 100}  # M4: out of the placed buckets
        if n == 9 and i >= 2:
            return {"status": "closed", "balance": 0.0, "dpd": 0}
        return None

    conn = m6_book(range(1, 10), 4, per_night=per_night, events=events)
    agencies.build_placements(conn, book.STRATEGY, night(0), night(3))
    ended = {p["account_id"]: (p["status"], p["recall_reason"], p["recalled_night"])
             for p in placements(conn)}
    assert ended == {
        "AC00000001": ("recalled", "payment", night(2)),
        "AC00000002": ("recalled", "dispute", night(2)),
        "AC00000003": ("recalled", "complaint", night(2)),
        "AC00000004": ("recalled", "bankruptcy", night(2)),
        "AC00000005": ("recalled", "deceased", night(2)),
        "AC00000006": ("active", None, None),
        "AC00000007": ("recalled", "complaint", night(2)),
        "AC00000008": ("returned", "left_placed_buckets", night(2)),
        "AC00000009": ("returned", "closed", night(2)),
    }
    # nobody recalled is placed again within replace_after_days (30)
    assert len(placements(conn)) == 9
    files = agencies.write_placement_files(conn, book.STRATEGY, night(2), tmp_path)
    assert files.rows == {}
    lines = [line for f in sorted((tmp_path / "2026-03-03").glob("*.recalls.csv"))
             for line in f.read_text(encoding="utf-8").splitlines()[1:]]
    assert sorted(lines) == [
        "PL20260301-AC00000001,AC00000001,2026-03-03,recalled,payment",
        "PL20260301-AC00000002,AC00000002,2026-03-03,recalled,dispute",
        "PL20260301-AC00000003,AC00000003,2026-03-03,recalled,complaint",
        "PL20260301-AC00000004,AC00000004,2026-03-03,recalled,bankruptcy",
        "PL20260301-AC00000005,AC00000005,2026-03-03,recalled,deceased",
        "PL20260301-AC00000007,AC00000007,2026-03-03,recalled,complaint",
        "PL20260301-AC00000008,AC00000008,2026-03-03,returned,left_placed_buckets",
        "PL20260301-AC00000009,AC00000009,2026-03-03,returned,closed"]
    assert sum(files.recalls.values()) == 8


def test_outcomes_dispute_and_complaint_recall_through_contact_history():
    conn = m6_book(range(1, 4), 3)
    agencies.build_placements(conn, book.STRATEGY, night(0), night(0))
    from pipelines.lib.collections import tiering
    tiering.ensure_tables(conn)
    conn.execute("drop table if exists contact_outcomes")
    conn.execute("create table contact_outcomes (landing_date date, outcome_id varchar, "
                 "contact_id varchar, outcome varchar)")
    for n in (1, 2):
        conn.execute(
            "insert into contact_history (contact_id, idempotency_key, snapshot_date, "
            "account_id, customer_id, channel, status, source, planned_at, updated_at) values "
            "(?, ?, ?, ?, ?, 'phone', 'answered', 'plan', now(), now())",
            [f"CT{n}", f"K{n}", night(0), f"AC{n:08d}", f"CU{n:07d}"])
    conn.execute("insert into contact_outcomes values (?, 'O1', 'CT1', 'dispute_raised'), "
                 "(?, 'O2', 'CT2', 'complaint')", [night(1), night(1)])
    agencies.build_placements(conn, book.STRATEGY, night(0), night(2))
    ended = {p["account_id"]: (p["status"], p["recall_reason"]) for p in placements(conn)}
    assert ended == {"AC00000001": ("recalled", "dispute"),
                     "AC00000002": ("recalled", "complaint"),
                     "AC00000003": ("active", None)}


def test_while_placed_the_lenders_own_contacts_stop_and_resume_on_recall():
    def per_night(i, n):
        return {"payment_amount": 200.0} if i == 2 else None

    conn = m6_book([1], 3, per_night=per_night)
    # night 0: no placement yet (the asset runs first; here: tiers before placements)
    book.run_night(conn, night(0))
    assert book.planned(conn, night(0), 1) != []
    for i in (1, 2):
        agencies.build_placements(conn, book.STRATEGY, night(1), night(i))
        book.run_night(conn, night(i))
    # placed on night 1 (the first night the placement step ran): no own contact that night
    assert book.tier_row(conn, night(1), 1)["suppression_reason"] == "placed_with_agency"
    assert book.planned(conn, night(1), 1) == []
    # recalled on night 2 (a payment): the lender's treatment again
    assert book.tier_row(conn, night(2), 1)["suppression_reason"] is None
    assert placements(conn)[0]["recall_reason"] == "payment"


def test_placement_file_holds_only_the_allowed_fields_and_a_rerun_rewrites_nothing(tmp_path):
    strategy = strategy_with(tmp_path, placement_fields=["account_reference", "debtor_name",
                                                         "amount_due", "currency"],
                             jurisdictions={"CN": {"shares": {"only_agency": 1.0}}},
                             rotation_days=None)
    conn = m6_book([1, 2], 1)
    agencies.build_placements(conn, strategy, N0, N0)
    out = tmp_path / "placements"
    files = agencies.write_placement_files(conn, strategy, N0, out)
    target = out / "2026-03-01" / "only_agency.csv"
    assert files.rows == {"only_agency": 2} and files.recalls == {} and files.written == 1
    with target.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["placement_id", "account_reference", "debtor_name", "amount_due", "currency"],
                    ["PL20260301-AC00000001", "AC00000001", "欧阳娜娜", "5432.10", "CNY"],
                    ["PL20260301-AC00000002", "AC00000002", "欧阳娜娜", "5432.10", "CNY"]]
    text = target.read_text(encoding="utf-8")
    assert "@example.cn" not in text and "+86" not in text
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    before = (target.read_bytes(), target.stat().st_mtime_ns)
    agencies.build_placements(conn, strategy, N0, N0)
    again = agencies.write_placement_files(conn, strategy, N0, out)
    assert again.unchanged == 1 and again.written == 0
    assert (target.read_bytes(), target.stat().st_mtime_ns) == before
    purged = agencies.purge_placements(out, N0 + timedelta(days=1))
    assert purged == [{"folder": "2026-03-01", "files": 1, "bytes": len(before[0])}]
    assert not target.exists() and (out / "2026-03-01" / "purged.json").is_file()


def test_every_default_field_and_the_phone_and_address(tmp_path):
    conn = m6_book([1], 1)
    book.insert(conn, "account_snapshots", [book.snapshot(N0, 2, 170, currency="USD")])
    book.insert(conn, "customers_history", [book.customer(
        2, N0, country="US", full_name="Mary O'Brien", mobile_phone="+14155550123",
        postal_address="12 Oak Street", city="Springfield", region="IL", postal_code="62701")])
    conn.execute("drop table account_features")
    book_features = book.account_features(conn, N0, N0)  # noqa: F841 (read by name below)
    conn.execute("create table account_features as select * from book_features")
    agencies.build_placements(conn, book.STRATEGY, N0, N0)
    agencies.write_placement_files(conn, book.STRATEGY, N0, tmp_path)
    rows = {}
    for path in (tmp_path / "2026-03-01").glob("*.csv"):
        with path.open(encoding="utf-8") as handle:
            rows |= {r["account_reference"]: r for r in csv.DictReader(handle)}
    assert rows == {
        "AC00000001": {"placement_id": "PL20260301-AC00000001", "account_reference": "AC00000001",
                       "debtor_name": "欧阳娜娜", "phone": "+8613800000001",
                       "address": "北京 北京 朝阳区建国路1号 100022", "amount_due": "5432.10",
                       "currency": "CNY", "placed_date": "2026-03-01"},
        "AC00000002": {"placement_id": "PL20260301-AC00000002", "account_reference": "AC00000002",
                       "debtor_name": "Mary O'Brien", "phone": "+14155550123",
                       "address": "12 Oak Street, Springfield, IL 62701", "amount_due": "5432.10",
                       "currency": "USD", "placed_date": "2026-03-01"}}


def test_recovery_per_agency_and_currency_by_hand(tmp_path):
    """CN: AC1 placed 10,000.00, pays 1,500.00 on night 2 (recalled: payment); AC2 placed
    5,000.00, pays 80.00 on the placement night (before the agency had it: not counted), nothing
    after. Collected 1,500.00 of 15,000.00 = 0.1. US: AC3 placed USD 2,000.00, pays 500.00 on
    night 1: 0.25. One agency per jurisdiction, payment recall on."""
    strategy = strategy_with(tmp_path, rotation_days=None, jurisdictions={
        "CN": {"shares": {"cn_one": 1.0}}, "US": {"shares": {"us_one": 1.0}}})
    balances = {1: 10000.0, 2: 5000.0, 3: 2000.0}

    def per_night(i, n):
        values = {"balance": balances[n], "credit_limit": 20000.0}
        if n == 3:
            values["currency"] = "USD"
        if (n, i) == (1, 2):
            values["payment_amount"] = 1500.0
        if (n, i) == (2, 0):
            values["payment_amount"] = 80.0
        if (n, i) == (3, 1):
            values["payment_amount"] = 500.0
        return values

    snaps, customers = [], []
    for n in (1, 2, 3):
        customers.append(book.customer(n, N0, country="US" if n == 3 else "CN"))
        for i in range(3):
            values = per_night(i, n)
            snaps.append(book.snapshot(night(i), n, 160 + i, **values))
    conn = book.warehouse(snaps, customers)
    agencies.build_placements(conn, strategy, night(0), night(2))
    frames = section.collect(conn, night(2), {"agency_placements"})
    recovery = {(r.agency_id, r.currency): (float(r.balance_placed), float(r.collected),
                                            r.recovery_rate)
                for r in frames["recovery"].itertuples()}
    assert recovery == {("cn_one", "CNY"): (15000.0, 1500.0, pytest.approx(0.1)),
                        ("us_one", "USD"): (2000.0, 500.0, pytest.approx(0.25))}
    statuses = {(r.agency_id, r.status): r.placements for r in frames["placements"].itertuples()}
    assert statuses == {("cn_one", "active"): 1, ("cn_one", "recalled"): 1,
                        ("us_one", "recalled"): 1}
    words = strings()
    assert set(words["zh-CN"]["agencies"]) == set(words["en"]["agencies"])
    for language, payment in (("en", "payment"), ("zh-CN", "还款")):
        context = section.tables(frames, words[language], language, "CNY")
        html = _environment().get_template("sections/agencies.html.j2").render(
            t=words[language]["agencies"], c=context)
        assert "1,500.00 CNY" in html and "10.0%" in html and "25.0%" in html
        assert "15,000.00 CNY" in html and "2,000.00 USD" in html and payment in html
        assert "欧阳娜娜" not in html and "AC0000000" not in html and "+86" not in html


@pytest.mark.parametrize(("change", "message"), [
    ({"jurisdictions": {"CN": {"shares": {"a": 0.5, "b": 0.4}}}}, "shares sum to 0.9"),
    ({"placement_fields": ["debtor_name", "email"]}, "'email' is not one of"),
    ({"placement_fields": ["debtor_name", "id_number"]}, "no ID number"),
    ({"jurisdictions": {"CN": {"shares": {"a": 1.0}}}}, "rotation needs a second agency"),
    ({"recall_on": ["payment", "moon_phase"]}, "'moon_phase' is not one of"),
    ({"buckets": ["M9"]}, "'M9' is not one of"),
])
def test_a_wrong_agencies_section_names_its_key(tmp_path, change, message):
    with pytest.raises(StrategyError, match=message) as error:
        strategy_with(tmp_path, **change)
    assert "agencies." in str(error.value)


def test_overdue_purge_removes_old_placement_files_too(home):
    from pipelines.cli import main

    conn = m6_book([1], 1)
    agencies.build_placements(conn, book.STRATEGY, N0, N0)
    files = agencies.write_placement_files(conn, book.STRATEGY, N0, agencies.placements_out_dir())
    (agency,) = files.rows
    target = home / "out" / "placements" / "2026-03-01" / f"{agency}.csv"
    assert target.is_file()
    assert main(["purge", "--before", "2026-03-01"]) == 0  # the night itself stays
    assert target.is_file()
    assert main(["purge", "--before", "2026-03-02"]) == 0
    assert not target.exists()
    assert (target.parent / "purged.json").is_file()


def test_no_contact_requests_running_promises_and_open_disputes_are_not_placed():
    long_ago = night(0) - timedelta(days=60)
    events = [book.event("do_not_contact", night(0), 1, account=False),
              book.event("promise_to_pay", night(0), 2, until=night(1)),
              book.event("promise_to_pay", night(0), 3, until=night(0) - timedelta(days=1)),
              # opened 60 days ago (past replace_after_days, inside open_dispute's 180): open
              book.event("dispute_opened", long_ago, 4),
              # opened and closed: placed
              book.event("dispute_opened", long_ago, 5),
              book.event("dispute_closed", long_ago + timedelta(days=5), 5)]
    conn = m6_book(range(1, 6), 3, events=events)
    agencies.build_placements(conn, book.STRATEGY, night(0), night(2))
    placed = {p["account_id"]: p["placed_night"] for p in placements(conn)}
    # AC1 never; AC2 once its promise ran out (after night 1); AC3's promise had lapsed; AC4's
    # dispute is open
    assert placed == {"AC00000002": night(2), "AC00000003": night(0),
                      "AC00000005": night(0)}


def test_a_strategy_without_agencies_returns_every_active_placement(tmp_path):
    conn = m6_book([1, 2], 3)
    agencies.build_placements(conn, book.STRATEGY, night(0), night(0))
    raw = yaml.safe_load(STRATEGY_PATH.read_text(encoding="utf-8"))
    del raw["agencies"]
    path = tmp_path / "strategy.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert agencies.build_placements(conn, load_strategy(path), night(2), night(2)) == 0
    assert {(p["status"], p["recall_reason"], p["recalled_night"]) for p in placements(conn)} \
        == {("returned", "no_agencies_in_strategy", night(2))}
