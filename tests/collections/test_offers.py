"""Offers (issue 19): payment plans and settlements on a hand-made book in real DuckDB.

Account 4 (CN, M3, balance 1000.00) gets the payment-plan treatment by a tier rule of a test
strategy; figures are worked out by hand: 1000.00 in 3 instalments is 333.33, 333.33, 333.34.
"""

import shutil
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import yaml

from pipelines import settings
from pipelines.lib.collections import offers, tiering
from pipelines.lib.collections import strategy as strategy_module
from pipelines.lib.collections.batch import fetch_contacts, lint_contacts
from pipelines.lib.collections.strategy import StrategyError, load_strategy
from tests.collections.book import customer, planned, snapshot, tier_row, warehouse

NIGHT = date(2026, 5, 3)
CONFIG = settings.REPO_ROOT / "pipelines" / "config"


def test_plan_instalments_add_up_to_the_balance_the_last_absorbing_the_cents():
    assert offers.plan_instalments(Decimal("1000.00"), 3) == [
        Decimal("333.33"), Decimal("333.33"), Decimal("333.34")]
    assert offers.plan_instalments(Decimal("2000.00"), 3) == [
        Decimal("666.66"), Decimal("666.66"), Decimal("666.68")]
    assert sum(offers.plan_instalments(Decimal("12345.67"), 12)) == Decimal("12345.67")


def test_settlement_amount_rounds_half_up_to_the_cent():
    # 1234.55 x 0.70 = 864.185 -> 864.19 (half-up; banker's rounding would give 864.18)
    assert offers.settlement_amount(Decimal("1234.55"), 0.30) == Decimal("864.19")
    assert offers.settlement_amount(Decimal("1000.00"), 0.10) == Decimal("900.00")


def strategy_file(tmp_path, edit) -> object:
    folder = tmp_path / "config"
    folder.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(CONFIG, folder)
    raw = yaml.safe_load((folder / "collection_strategy.yaml").read_text(encoding="utf-8"))
    edit(raw)
    (folder / "collection_strategy.yaml").write_text(
        yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder / "collection_strategy.yaml"


def test_a_waiver_above_every_approval_limit_is_refused(tmp_path):
    def over(raw):
        raw["offers"]["settlement"]["default_waived_share"] = 0.60
    with pytest.raises(StrategyError, match=r"offers.settlement.default_waived_share.*60%.*50%"):
        load_strategy(strategy_file(tmp_path, over))


def test_settlement_approval_level_is_the_first_that_covers_the_share():
    levels = [{"level": "agent", "max_waived_share": 0.10},
              {"level": "supervisor", "max_waived_share": 0.30},
              {"level": "manager", "max_waived_share": 0.50}]
    assert offers.settlement_level(levels, 0.10) == "agent"
    assert offers.settlement_level(levels, 0.30) == "supervisor"
    assert offers.settlement_level(levels, 0.31) == "manager"
    assert offers.settlement_level(levels, 0.51) is None


def _plan_strategy(raw):
    for rule in raw["tiers"]:
        if rule["buckets"] == ["M3"]:
            rule["treatment"] = "T3_payment_plan"
        if rule["buckets"] == ["M4", "M5", "M6"]:
            rule["treatment"] = "T4_settlement"
    raw["offers"]["payment_plan"]["default_instalments"] = 3


@pytest.fixture
def plan_strategy(tmp_path, monkeypatch):
    path = strategy_file(tmp_path, _plan_strategy)
    monkeypatch.setattr(strategy_module, "STRATEGY_PATH", path)
    return load_strategy(path)


OUTCOMES = """drop table if exists contact_outcomes;
create table contact_outcomes (
    landing_date date, outcome_id varchar, contact_id varchar,
    outcome_time timestamp with time zone, outcome varchar, promised_amount decimal(18, 2),
    promised_date date, offer_id varchar, agent_id varchar, agency_id varchar, source varchar,
    extra_columns json, source_file varchar, source_row bigint)"""


def outcome(conn, landed: date, offer_id: str, kind: str = "offer_accepted") -> None:
    conn.execute(
        "insert into contact_outcomes values (?, ?, 'C1', ?, ?, null, null, ?, 'AG7', null, "
        "'work_list', null, 'test', 1)",
        [landed, f"O-{offer_id}-{kind}",
         datetime.combine(landed, datetime.min.time(), UTC) + timedelta(hours=6), kind,
         offer_id])


def night_book(start: date, nights: int, payments: dict[int, float]) -> list[dict]:
    """Account 4 (M3, balance 1000.00) for `nights` nights; payments by night index."""
    rows = []
    for i in range(nights):
        night = start + timedelta(days=i)
        rows.append(snapshot(night, 4, min(75 + i, 85), balance=1000.00, past_due_amount=300.00,
                             payment_amount=payments.get(i, 0.0)))
    return rows


def run(conn, strategy, night):
    tiering.build_tiers(conn, strategy, night, night)
    offers.run_night(conn, strategy, night)
    tiering.plan_nights(conn, strategy, night, night)


def offer_row(conn, offer_id):
    cursor = conn.execute("select * from offers where offer_id = ?", [offer_id])
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def test_plan_offered_accepted_followed_and_a_missed_instalment_returns_the_account(
        plan_strategy):
    # accepted on night 1 (day 2026-05-04): instalments due 05-11, 06-10, 07-10 (7, then 30 days);
    # 333.33 paid on 05-10 keeps the first; nothing more: the second is missed after 06-11
    days = 41
    payments = {7: 333.33}
    conn = warehouse(night_book(NIGHT, days, payments), [customer(4, NIGHT)])
    conn.execute(OUTCOMES)
    run(conn, plan_strategy, NIGHT)
    made = conn.execute("select offer_id from offers").fetchall()
    assert len(made) == 1
    offer_id = made[0][0]
    row = offer_row(conn, offer_id)
    assert (row["type"], row["instalments"], row["instalment_amount"],
            row["last_instalment_amount"], row["approval_level"], row["valid_until"]) == (
        "payment_plan", 3, Decimal("333.33"), Decimal("333.34"), "agent", date(2026, 5, 17))
    assert ("letter", "payment_plan_offer") in planned(conn, NIGHT, 4)

    outcome(conn, NIGHT + timedelta(days=1), offer_id)
    run(conn, plan_strategy, NIGHT + timedelta(days=1))
    assert offer_row(conn, offer_id)["status"] == "accepted"
    schedule = conn.execute("select number, due_date, amount from offer_instalments "
                            "order by number").fetchall()
    assert schedule == [(1, date(2026, 5, 11), Decimal("333.33")),
                        (2, date(2026, 6, 10), Decimal("333.33")),
                        (3, date(2026, 7, 10), Decimal("333.34"))]
    assert tier_row(conn, NIGHT + timedelta(days=1), 4)["suppression_reason"] \
        == "payment_plan_active"
    assert planned(conn, NIGHT + timedelta(days=1), 4) == []
    # a repeat of the acceptance changes nothing
    outcome(conn, NIGHT + timedelta(days=2), offer_id, "offer_declined")
    for i in range(2, days):
        run(conn, plan_strategy, NIGHT + timedelta(days=i))
        status = offer_row(conn, offer_id)["status"]
        night = NIGHT + timedelta(days=i)
        if night < date(2026, 5, 10):
            assert status == "active", night
        elif night <= date(2026, 6, 11):
            assert status == "kept", night
            assert tier_row(conn, night, 4)["suppression_reason"] == "payment_plan_active"
    # 06-12: the second instalment is a grace day past due: broken, the account back in its tier
    broken = offer_row(conn, offer_id)
    assert (broken["status"], broken["closed_night"]) == ("broken", date(2026, 6, 12))
    last = NIGHT + timedelta(days=days - 1)
    assert last == date(2026, 6, 12)
    assert tier_row(conn, last, 4)["suppression_reasons"] is None
    assert ("phone", "phone_formal") in planned(conn, last, 4)
    paid = conn.execute("select number, paid_amount, status from offer_instalments "
                        "order by number").fetchall()
    assert paid == [(1, Decimal("333.33"), "paid"), (2, Decimal("0.00"), "missed"),
                    (3, Decimal("0.00"), "due")]
    # within the cooldown no new plan is offered
    assert conn.execute("select count(*) from offers").fetchone()[0] == 1


def test_settlement_is_paid_and_completes(plan_strategy):
    # M5 balance 1234.55, 30% waived: 864.19, due 14 days after acceptance (2026-05-18)
    rows = [snapshot(NIGHT + timedelta(days=i), 6, 130 + i, balance=1234.55,
                     past_due_amount=1234.55, payment_amount=864.19 if i == 10 else 0.0)
            for i in range(12)]
    conn = warehouse(rows, [customer(6, NIGHT)])
    conn.execute(OUTCOMES)
    run(conn, plan_strategy, NIGHT)
    (offer_id,) = conn.execute("select offer_id from offers").fetchone()
    row = offer_row(conn, offer_id)
    assert (row["type"], row["settlement_amount"], row["waived_share"], row["approval_level"]) \
        == ("settlement", Decimal("864.19"), Decimal("0.3000"), "supervisor")
    outcome(conn, NIGHT + timedelta(days=1), offer_id)
    for i in range(1, 12):
        run(conn, plan_strategy, NIGHT + timedelta(days=i))
    row = offer_row(conn, offer_id)
    assert (row["status"], row["closed_night"]) == ("completed", NIGHT + timedelta(days=10))


def test_an_unanswered_offer_expires_and_a_declined_one_stays_declined(plan_strategy):
    conn = warehouse(night_book(NIGHT, 16, {}) + [
        snapshot(NIGHT + timedelta(days=i), 5, 75 + i, balance=3000.00, past_due_amount=300.0)
        for i in range(16)], [customer(4, NIGHT), customer(5, NIGHT)])
    conn.execute(OUTCOMES)
    run(conn, plan_strategy, NIGHT)
    ids = dict(conn.execute("select account_id, offer_id from offers").fetchall())
    outcome(conn, NIGHT + timedelta(days=2), ids["AC00000005"], "offer_declined")
    for i in range(1, 16):
        run(conn, plan_strategy, NIGHT + timedelta(days=i))
    assert offer_row(conn, ids["AC00000004"])["status"] == "expired"
    assert offer_row(conn, ids["AC00000004"])["closed_night"] == date(2026, 5, 18)
    assert offer_row(conn, ids["AC00000005"])["status"] == "declined"


@pytest.mark.parametrize("language", ["zh-CN", "en-US"])
def test_both_offer_letters_state_the_offer_and_pass_the_linter(plan_strategy, language):
    rows = night_book(NIGHT, 1, {}) + [snapshot(NIGHT, 6, 130, balance=1234.55,
                                                past_due_amount=1234.55)]
    conn = warehouse(rows, [customer(4, NIGHT, preferred_language=language),
                            customer(6, NIGHT, preferred_language=language)])
    run(conn, plan_strategy, NIGHT)
    tiering.register_strategy(conn, plan_strategy)
    contacts = [r for r in fetch_contacts(conn, plan_strategy, NIGHT)
                if r["template"] in offers.TEMPLATES]
    assert sorted(r["template"] for r in contacts) == ["payment_plan_offer", "settlement_offer"]
    for row, rendered, finding in lint_contacts(plan_strategy, contacts):
        assert finding is None, (row["template"], finding)
        body = rendered.body
        if row["template"] == "payment_plan_offer":
            assert "333.33" in body and "333.34" in body and "1,000.00" in body
        else:
            assert "864.19" in body and "1,234.55" in body
        assert row["offer_valid_until_text"] in body
        # a letter whose printed figure differs from the offers row is held
        tampered = dict(row) | {"offer_settlement_amount_text": "1.00",
                                "offer_schedule": [dict(s) | {"amount_text": "1.00"}
                                                   for s in row["offer_schedule"]]}
        _, _, held = lint_contacts(plan_strategy, [tampered])[0]
        assert held is not None and held.rule == "offer_terms", held


def test_report_section_counts_and_money_per_currency(plan_strategy):
    import jinja2

    from pipelines.lib.report.render import TEMPLATE_DIR, strings
    from pipelines.lib.report.sections import offers as section

    rows = [snapshot(NIGHT + timedelta(days=i), 6, 130 + i, balance=1234.55,
                     past_due_amount=1234.55, payment_amount=864.19 if i == 3 else 0.0)
            for i in range(4)]
    rows += [snapshot(NIGHT + timedelta(days=i), 7, 130 + i, balance=2000.00, currency="USD",
                      past_due_amount=2000.00) for i in range(4)]
    conn = warehouse(rows, [customer(6, NIGHT), customer(7, NIGHT)])
    conn.execute(OUTCOMES)
    run(conn, plan_strategy, NIGHT)
    ids = dict(conn.execute("select account_id, offer_id from offers").fetchall())
    outcome(conn, NIGHT + timedelta(days=1), ids["AC00000006"])
    outcome(conn, NIGHT + timedelta(days=1), ids["AC00000007"], "offer_declined")
    for i in range(1, 4):
        run(conn, plan_strategy, NIGHT + timedelta(days=i))
    last = NIGHT + timedelta(days=3)
    assert section.collect(conn, last, {"offers"}) is None
    frames = section.collect(conn, last, {"offers", "offer_instalments"})
    context = section.tables(frames, strings()["en"], "en", "CNY")
    # two settlements made on the first night, one accepted and completed, one declined: 50%
    assert context["counts"] == [["settlement", "0", "0", "0", "0", "0", "0", "0", "1", "50%"]]
    # CNY 1234.55 x 0.70 = 864.19 paid; 370.36 waived; the declined USD offer has no money
    assert context["amounts"] == [["settlement", "CNY", "–", "¥864.19", "¥864.19", "–",
                                   "¥370.36"]]
    template = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
                                  autoescape=True, undefined=jinja2.StrictUndefined
                                  ).get_template("sections/offers.html.j2")
    for language in ("zh-CN", "en"):
        text = strings()[language]
        html = template.render(t=text["offers"],
                               c=section.tables(frames, text, language, "CNY"))
        assert "864.19" in html and "370.36" in html and text["offers"]["heading"] in html
    assert "AC0" not in html and "CU0" not in html


def test_an_offer_letter_without_an_offer_is_held_not_failed(plan_strategy):
    # M3 balance 500.00: the plan treatment's letter is planned, but 500 < CNY 1000 minimum
    conn = warehouse([snapshot(NIGHT, 4, 75, balance=500.00, past_due_amount=300.00)],
                     [customer(4, NIGHT)])
    run(conn, plan_strategy, NIGHT)
    assert conn.execute("select count(*) from offers").fetchall() == [(0,)]
    tiering.register_strategy(conn, plan_strategy)
    (row,) = [r for r in fetch_contacts(conn, plan_strategy, NIGHT)
              if r["template"] == "payment_plan_offer"]
    _, rendered, finding = lint_contacts(plan_strategy, [row])[0]
    assert rendered is not None
    assert (finding.rule, finding.span) == ("offer_terms",
                                            "no open offer on record for the account")


def test_an_offer_template_needs_its_offer_section_and_a_print_letter(tmp_path):
    def no_settlement(raw):
        del raw["offers"]["settlement"]
    with pytest.raises(StrategyError, match=r"treatments.T4_settlement.contacts\[0\].template: "
                                            r"offers.settlement is not defined"):
        load_strategy(strategy_file(tmp_path / "a", no_settlement))

    def by_sms(raw):
        raw["treatments"]["T3_payment_plan"]["contacts"][0]["channel"] = "sms"
    with pytest.raises(StrategyError, match=r"T3_payment_plan.contacts\[0\].channel"):
        load_strategy(strategy_file(tmp_path / "b", by_sms))

    def unknown(raw):
        raw["offers"]["payment_plan"]["instalmnts"] = 3
    with pytest.raises(StrategyError, match=r"offers.payment_plan.instalmnts: unknown key"):
        load_strategy(strategy_file(tmp_path / "c", unknown))
