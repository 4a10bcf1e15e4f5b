"""experiment_results against counts stated by hand on a tiny book.

Experiment exp_r (challenger: 50% of customers, T1 soft notice by SMS only; champion: SMS and
e-mail). Entry night N0 = 2026-02-01, every account M1 (10 days past due, unscored: T1).
Snapshots on N0, N0+10, N0+20, N0+30 and the results night N0+31. Days past due per snapshot:

  champion c1: 10, 0 (pays 250), 0, 0          cured, collected 250, contacts 2 (N0 only)
  champion c2: 10, 20, 30, 40                  rolled to M2 at N0+30, contacts 6
  champion c3: 10, 20, 5 (pays 100), 15         neither, collected 100, contacts 6
  champion c4: 10, 20, 30, 0 (pays 500)         cured; pays 999 on N0+31 (outside the window)
  champion c5: 0, 5, 15, 0 (pays 70)            enters on N0+10: not matured on N0+31
  challenger h1: 10, 0 (pays 300), 0, 0        cured, contacts 1; a complaint lands on N0+15
  challenger h2: 10, 20, 0 (pays 250), 0       cured, contacts 2
  challenger h3: 10, 0 (pays 400), 0, 0        cured, contacts 1
  challenger h4: 10, 20, 30, 40                rolled, contacts 3

Champion (matured 4): cure 2/4, roll 1/4, collected 250+0+100+500 = 850 (mean 212.5),
contacts 20 for 2 cures = 10 per cure, complaints 0.
Challenger (4): cure 3/4, roll 1/4, collected 300+250+400+0 = 950 (mean 237.5), contacts 7 for
3 cures = 7/3, complaints 1 = 250 per 1,000.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
import yaml

from pipelines.lib.collections import experiment_results, experiment_stats, tiering
from tests.collections.book import STRATEGY, customer, snapshot, warehouse
from tests.collections.test_experiments import expected_arm, experiment

N0 = date(2026, 2, 1)
DAYS = (0, 10, 20, 30, 31)
NIGHT = N0 + timedelta(days=31)
# days past due (payment) per snapshot day
PATHS = {
    "c1": [(10, 0), (0, 250), (0, 0), (0, 0), (0, 0)],
    "c2": [(10, 0), (20, 0), (30, 0), (40, 0), (41, 0)],
    "c3": [(10, 0), (20, 0), (5, 100), (15, 0), (16, 0)],
    "c4": [(10, 0), (20, 0), (30, 0), (0, 500), (0, 999)],
    "c5": [(0, 0), (5, 0), (15, 0), (0, 70), (0, 0)],
    "h1": [(10, 0), (0, 300), (0, 0), (0, 0), (0, 0)],
    "h2": [(10, 0), (20, 0), (0, 250), (0, 0), (0, 0)],
    "h3": [(10, 0), (0, 400), (0, 0), (0, 0), (0, 0)],
    "h4": [(10, 0), (20, 0), (30, 0), (40, 0), (41, 0)],
}


def numbers() -> dict[str, int]:
    """Customer numbers whose seeded arm is the one each path needs."""
    want = {"c": "champion", "h": "challenger"}
    chosen, candidates = {}, iter(range(1, 1000))
    for name in PATHS:
        number = next(n for n in candidates
                      if expected_arm(7, "exp_r", f"CU{n:07d}", 0.5) == want[name[0]])
        chosen[name] = number
    return chosen


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exps")
    raw = experiment(id="exp_r", start_date="2026-02-01", end_date="2026-03-31")
    raw["arms"]["challenger"]["share"] = 0.5
    (folder / "exp_r.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    chosen = numbers()
    snaps = [snapshot(N0 + timedelta(days=day), number, dpd, payment_amount=float(paid))
             for name, number in chosen.items()
             for day, (dpd, paid) in zip(DAYS, PATHS[name], strict=True)]
    customers = [customer(n, N0) for n in chosen.values()]
    complaint = {
        "landing_date": N0 + timedelta(days=15), "event_id": "E-complaint",
        "event_time": datetime(2026, 2, 16, 3, tzinfo=UTC), "customer_id":
        f"CU{chosen['h1']:07d}", "account_id": None, "event_type": "complaint",
        "channel": "phone", "amount": None, "until_date": None}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OVERDUE_EXPERIMENTS_DIR", str(folder))
        conn = warehouse(snaps, customers, [complaint])
        tiering.build_tiers(conn, STRATEGY, N0, NIGHT)
        tiering.plan_nights(conn, STRATEGY, N0, NIGHT)
        experiment_results.build(conn, STRATEGY, NIGHT, NIGHT)
        cursor = conn.execute("select * from experiment_results where snapshot_date = ?",
                              [NIGHT])
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        yield {(r["arm"], r["metric"]): r for r in rows}, conn


def test_counts_and_values_by_hand(results):
    rows, _ = results
    champion, challenger = rows[("champion", "cure_30d")], rows[("challenger", "cure_30d")]
    assert (champion["accounts"], champion["matured"], champion["successes"]) == (5, 4, 2)
    assert (challenger["accounts"], challenger["matured"], challenger["successes"]) == (4, 4, 3)
    assert challenger["value"] == 0.75 and challenger["champion_value"] == 0.5
    assert challenger["difference"] == pytest.approx(0.25)
    assert challenger["primary_metric"] and not rows[("challenger", "roll_forward_30d")][
        "primary_metric"]
    roll = rows[("challenger", "roll_forward_30d")]
    assert (roll["successes"], roll["value"], roll["champion_value"]) == (1, 0.25, 0.25)
    assert roll["difference"] == 0 and roll["verdict"] == "no significant difference"
    amount = rows[("challenger", "amount_collected_30d")]
    assert amount["currency"] == "CNY"
    assert rows[("champion", "amount_collected_30d")]["amount_collected"] == 850
    assert amount["amount_collected"] == 950
    assert (amount["value"], amount["champion_value"]) == (237.5, 212.5)
    assert amount["difference"] == 25
    per_cure = rows[("challenger", "contacts_per_cure")]
    assert per_cure["champion_value"] == 10
    assert per_cure["value"] == pytest.approx(7 / 3)
    complaints = rows[("challenger", "complaints_per_1000")]
    assert (complaints["successes"], complaints["value"], complaints["champion_value"]) == (
        1, 250, 0)


def test_intervals_mde_and_verdicts(results):
    rows, _ = results
    cure = rows[("challenger", "cure_30d")]
    # the Newcombe interval of 3/4 - 2/4 (the function is tested against Newcombe's table)
    interval = experiment_stats.rate_difference(2, 4, 3, 4)
    assert (cure["low"], cure["high"]) == pytest.approx((interval.low, interval.high))
    assert cure["low"] < 0 < cure["high"]
    assert cure["verdict"] == "no significant difference"
    # 2.801585 x sqrt(0.5 x 0.5 x (1/4 + 1/4)) = 0.990509
    assert cure["min_detectable_effect"] == pytest.approx(0.990509, abs=1e-6)
    assert rows[("champion", "cure_30d")]["verdict"] is None
    assert rows[("champion", "cure_30d")]["difference"] is None


def test_too_early_before_any_entry_matures(results):
    _, conn = results
    experiment_results.build(conn, STRATEGY, N0 + timedelta(days=20), N0 + timedelta(days=20))
    verdicts = conn.execute(
        "select distinct verdict from experiment_results where snapshot_date = ? "
        "and arm = 'challenger'", [N0 + timedelta(days=20)]).fetchall()
    assert verdicts == [("too early",)]
    matured = conn.execute("select max(matured) from experiment_results where snapshot_date = ?",
                           [N0 + timedelta(days=20)]).fetchone()[0]
    assert matured == 0


def test_report_section_says_no_significant_difference_in_both_languages(results):
    from pipelines.lib.report import render
    from pipelines.lib.report.sections import experiments as section

    _, conn = results
    frames = section.collect(conn, NIGHT, {"experiment_results"})
    words = render.strings()
    pages = {}
    for language in ("zh-CN", "en"):
        context = section.tables(frames, words[language], language, "CNY")
        pages[language] = render._environment().get_template(
            "sections/experiments.html.j2").render(t=words[language]["experiments"], c=context)
    assert "SMS only cures as many M1 low-risk accounts" in pages["en"]
    assert "4 accounts entered the challenger arm of 100 pre-registered" in pages["en"]
    assert ("Challenger against the champion, 30-day cure rate: +25.00 pp (95% interval "
            in pages["en"])
    assert "): no significant difference." in pages["en"]
    assert "99.05 pp" in pages["en"]
    assert "挑战者组对比冠军组，30 天治愈率：差异 +25.00 pp" in pages["zh-CN"]
    assert "：无显著差异。" in pages["zh-CN"]
    assert "¥237.50" in pages["en"]


def test_report_section_without_the_table_is_not_available():
    from pipelines.lib.report.sections import experiments as section

    assert section.collect(None, NIGHT, set()) is None


def test_complaints_from_contact_outcomes_count_too(results):
    # the outcomes feed's table (shared interface, issue 19): a complaint on c2's first contact
    _, conn = results
    contact_id = conn.execute(
        "select min(contact_id) from contact_history h join experiment_assignments a "
        "on a.customer_id = h.customer_id where a.arm = 'champion' and h.account_id = ?",
        [f"AC{numbers()['c2']:08d}"]).fetchone()[0]
    conn.execute("drop table if exists contact_outcomes")
    conn.execute("create table contact_outcomes (landing_date date, outcome_id varchar, "
                 "contact_id varchar, outcome varchar)")
    conn.execute("insert into contact_outcomes values (?, 'O1', ?, 'complaint'), "
                 "(?, 'O2', ?, 'no_answer')", [N0 + timedelta(days=3), contact_id,
                                               N0 + timedelta(days=3), contact_id])
    try:
        experiment_results.build(conn, STRATEGY, NIGHT, NIGHT)
        got = conn.execute("select arm, successes, value from experiment_results "
                           "where snapshot_date = ? and metric = 'complaints_per_1000' "
                           "order by arm", [NIGHT]).fetchall()
    finally:
        conn.execute("drop table contact_outcomes")
        experiment_results.build(conn, STRATEGY, NIGHT, NIGHT)
    assert got == [("challenger", 1, 250.0), ("champion", 1, 250.0)]
