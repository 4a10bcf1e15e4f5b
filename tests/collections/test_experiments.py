"""Strategy experiments: refused files, stable seeded arms, the overlay on challenger accounts only."""

import copy
import hashlib
from datetime import date, timedelta

import pytest
import yaml

from pipelines.lib.collections import experiments
from pipelines.lib.collections.experiments import ExperimentError, load_experiment
from tests.collections.book import STRATEGY, customer, planned, run_night, snapshot, warehouse

NIGHT = date(2026, 2, 10)
CUSTOMERS = 40


def experiment(**changes) -> dict:
    raw = {
        "id": "exp_a", "hypothesis": "SMS only cures as many M1 low-risk accounts",
        "metric": "cure_30d", "sample_size": 100, "start_date": "2026-02-01",
        "end_date": "2026-03-31", "seed": 7, "status": "running",
        "arms": {"challenger": {"share": 0.3, "changes": {"treatments": {"T1": {"contacts": [
            {"channel": "sms", "template": "soft_notice", "cadence": {"every_days": 7}}]}}}}},
    }
    raw.update(changes)
    return raw


def write(folder, raw: dict, name: str | None = None):
    folder.mkdir(exist_ok=True)
    path = folder / f"{name or raw['id']}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def without(key):
    raw = experiment()
    raw.pop(key)
    return raw


def holdout_without_final_notice():
    t4 = copy.deepcopy(STRATEGY.raw["treatments"]["T4"])
    t4["contacts"] = [c for c in t4["contacts"] if c.get("template") != "final_notice"]
    raw = experiment()
    raw["arms"]["holdout"] = {"share": 0.1, "changes": {"treatments": {"T4": t4}}}
    return raw


def tiers_skipping_m4():
    tiers = [dict(r, buckets=[b for b in r["buckets"] if b != "M4"])
             for r in STRATEGY.raw["tiers"]]
    raw = experiment()
    raw["arms"]["holdout"] = {"share": 0.1, "changes": {"tiers": [t for t in tiers
                                                                  if t["buckets"]]}}
    return raw


def challenger_without_formal_letter():
    raw = experiment()
    t3 = copy.deepcopy(STRATEGY.raw["treatments"]["T3"])
    t3["contacts"] = [c for c in t3["contacts"] if c["channel"] != "letter"]
    raw["arms"]["challenger"]["changes"] = {"treatments": {"T3": t3}}
    return raw


def bad_delay():
    raw = experiment()
    raw["arms"]["challenger"]["delay_days"] = 0
    return raw


def over_one():
    raw = experiment()
    raw["arms"]["holdout"] = {"share": 0.75, "changes": {}}
    return raw


def unknown_channel():
    raw = experiment()
    raw["arms"]["challenger"]["changes"]["treatments"]["T1"]["contacts"][0]["channel"] = "fax"
    return raw


def overlay_on_jurisdictions():
    raw = experiment()
    raw["arms"]["challenger"]["changes"] = {"jurisdictions": {"CN": {}}}
    return raw


@pytest.mark.parametrize(("raw", "message"), [
    (without("hypothesis"), "exp_a.yaml: hypothesis: missing"),
    (without("metric"), "exp_a.yaml: metric: missing"),
    (experiment(metric="happiness"), "exp_a.yaml: metric: expected one of"),
    (without("sample_size"), "exp_a.yaml: sample_size: missing"),
    (without("end_date"), "exp_a.yaml: end_date: missing"),
    (experiment(end_date="2026-01-01"), "end_date: 2026-01-01 is before start_date"),
    (experiment(status="live"), "exp_a.yaml: status: expected one of draft, running, stopped"),
    (over_one(), "exp_a.yaml: arms: the shares sum to 1.05, over 1"),
    (bad_delay(), "exp_a.yaml: arms.challenger.delay_days: expected a whole number of nights"),
    (challenger_without_formal_letter(),
     ("exp_a.yaml: arms.challenger.changes: removes the letter formal_demand (the US "
      "validation_notice) from treatments.T3")),
    (holdout_without_final_notice(),
     "exp_a.yaml: arms.holdout.changes: removes the letter final_notice from treatments.T4"),
    (tiers_skipping_m4(),
     "exp_a.yaml: arms.holdout.changes: removes the letter final_notice for bucket M4"),
    (unknown_channel(), ("exp_a.yaml: arms.challenger.changes: the arm's strategy is invalid: "
                         "exp_a.challenger.yaml: treatments.T1.contacts[0].channel: unknown "
                         "channel 'fax'")),
    (overlay_on_jurisdictions(), "arms.challenger.changes.jurisdictions: an arm may change only"),
    (experiment(id="exp_b"), "exp_a.yaml: id: 'exp_b' differs from the file's name"),
])
def test_refused_with_file_and_key(tmp_path, raw, message):
    path = write(tmp_path / "x", raw, name="exp_a")
    with pytest.raises(ExperimentError) as error:
        load_experiment(path, STRATEGY)
    assert message in str(error.value)


def test_overlapping_running_experiments_refused(tmp_path):
    folder = tmp_path / "exps"
    write(folder, experiment())
    write(folder, experiment(id="exp_b", start_date="2026-03-15", end_date="2026-04-30"))
    with pytest.raises(ExperimentError, match="exp_b.yaml: status: running on the same customers "
                       "as exp_a.yaml"):
        experiments.load_experiments(STRATEGY, folder)
    write(folder, experiment(id="exp_b", start_date="2026-04-01", end_date="2026-04-30"))
    assert [e.id for e in experiments.load_experiments(STRATEGY, folder)] == ["exp_a", "exp_b"]


def test_the_example_file_is_valid_and_a_draft():
    found = experiments.load_experiments(STRATEGY, experiments.EXPERIMENTS_DIR)
    assert found and all(e.status == "draft" for e in found)


def expected_arm(seed, exp_id, customer_id, challenger, holdout=0.0) -> str:
    digest = hashlib.sha256(f"{seed}|{exp_id}|{customer_id}".encode()).hexdigest()
    u = int(digest[:15], 16) / 16 ** 15
    return "holdout" if u < holdout else "challenger" if u < holdout + challenger else "champion"


def book(nights=(NIGHT,)):
    # M1 low-risk (unscored): tier T1, soft_notice by sms + email
    snaps = [snapshot(n, i, dpd=10 + (n - NIGHT).days) for n in nights
             for i in range(1, CUSTOMERS + 1)]
    return warehouse(snaps, [customer(i, nights[0]) for i in range(1, CUSTOMERS + 1)])


def arms(conn, exp_id="exp_a") -> dict:
    return dict(conn.execute("select customer_id, arm from experiment_assignments "
                             "where experiment_id = ?", [exp_id]).fetchall())


def test_overlay_applies_to_challenger_accounts_only(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERDUE_EXPERIMENTS_DIR", str(tmp_path / "exps"))
    write(tmp_path / "exps", experiment())
    conn = book()
    run_night(conn, NIGHT)
    want = {f"CU{i:07d}": expected_arm(7, "exp_a", f"CU{i:07d}", 0.3)
            for i in range(1, CUSTOMERS + 1)}
    assert arms(conn) == want
    assert 5 <= list(want.values()).count("challenger") <= 20
    for i in range(1, CUSTOMERS + 1):
        arm = want[f"CU{i:07d}"]
        row = conn.execute("select tier, treatment, experiment_id, arm, strategy_version "
                           "from collection_tiers where account_id = ?",
                           [f"AC{i:08d}"]).fetchone()
        assert row[:4] == ("T1", "soft_notice", "exp_a", arm)
        assert ("~exp_a.challenger" in row[4]) == (arm == "challenger")
        contacts = planned(conn, NIGHT, i)
        if arm == "challenger":
            assert contacts == [("sms", "soft_notice")]
        else:
            assert contacts == [("email", "soft_notice"), ("sms", "soft_notice")]
        tags = conn.execute("select distinct experiment_id, arm from contact_history "
                            "where account_id = ?", [f"AC{i:08d}"]).fetchall()
        assert tags == [("exp_a", arm)]


def test_a_tier_rule_change_moves_challenger_accounts_only(tmp_path, monkeypatch):
    tiers = copy.deepcopy(STRATEGY.raw["tiers"])
    for rule in tiers:
        if rule["tier"] == "T1":
            rule.update(tier="T2", name="early-high for all M1")
    raw = experiment()
    raw["arms"]["challenger"]["changes"] = {"tiers": tiers}
    monkeypatch.setenv("OVERDUE_EXPERIMENTS_DIR", str(tmp_path / "exps"))
    write(tmp_path / "exps", raw)
    conn = book()
    run_night(conn, NIGHT)
    got = dict(conn.execute("select arm, list(distinct tier) from collection_tiers "
                            "group by arm").fetchall())
    assert got == {"challenger": ["T2"], "champion": ["T1"]}
    challenger = next(c for c, a in arms(conn).items() if a == "challenger")
    number = int(challenger[2:])
    assert ("phone", "phone_early") in planned(conn, NIGHT, number)


def test_assignment_stable_on_rerun_and_when_shares_change(tmp_path, monkeypatch):
    folder = tmp_path / "exps"
    monkeypatch.setenv("OVERDUE_EXPERIMENTS_DIR", str(folder))
    write(folder, experiment())
    write(folder, experiment(id="exp_b", start_date="2026-05-01", end_date="2026-05-31"))
    nights = (NIGHT, date(2026, 2, 11))
    conn = book(nights)
    run_night(conn, nights[0])
    first = arms(conn)
    run_night(conn, nights[0])  # a rerun of the night
    assert arms(conn) == first
    assert conn.execute("select count(*) from experiment_assignments").fetchone()[0] == CUSTOMERS
    # another experiment's shares change: exp_a's arms do not
    write(folder, experiment(id="exp_b", start_date="2026-05-01", end_date="2026-05-31",
                             arms={"challenger": {"share": 0.6, "changes": {}}}))
    # and exp_a's own share changes mid-way: customers keep their first arm
    write(folder, experiment(arms={"challenger": {"share": 0.9, "changes": {}}}))
    run_night(conn, nights[1])
    assert arms(conn) == first
    assert set(conn.execute("select first_night from experiment_assignments").fetchall()) == {
        (nights[0],)}
    tagged = dict(conn.execute("select customer_id, arm from collection_tiers "
                               "where snapshot_date = ?", [nights[1]]).fetchall())
    assert tagged == first


def test_outside_the_experiment_nights_no_arm(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERDUE_EXPERIMENTS_DIR", str(tmp_path / "exps"))
    write(tmp_path / "exps", experiment(start_date="2026-03-01"))
    conn = book()
    run_night(conn, NIGHT)
    assert conn.execute("select count(*) from collection_tiers where arm is not null "
                        "or experiment_id is not null").fetchone()[0] == 0
    assert conn.execute("select count(*) from experiment_assignments").fetchone()[0] == 0
    assert conn.execute("select count(*) from contact_history where channel = 'email'"
                        ).fetchone()[0] == CUSTOMERS


def test_a_warehouse_from_before_gains_the_arm_columns():
    conn = book()
    conn.execute("drop table if exists collection_tiers")
    conn.execute("create table collection_tiers (snapshot_date date, account_id varchar, "
                 "customer_id varchar)")
    experiments.ensure_tables(conn)
    columns = [r[0] for r in conn.execute("describe collection_tiers").fetchall()]
    assert columns[-2:] == ["experiment_id", "arm"]


def test_a_delayed_holdout_waits_after_tier_entry(tmp_path, monkeypatch):
    raw = experiment()
    raw["arms"]["challenger"] = {"share": 0.3, "changes": {}}
    raw["arms"]["holdout"] = {"share": 0.3, "changes": {}, "delay_days": 2}
    monkeypatch.setenv("OVERDUE_EXPERIMENTS_DIR", str(tmp_path / "exps"))
    write(tmp_path / "exps", raw)
    nights = tuple(NIGHT + timedelta(days=d) for d in range(3))
    conn = book(nights)
    for night in nights:
        run_night(conn, night)
    want = {f"CU{i:07d}": expected_arm(7, "exp_a", f"CU{i:07d}", 0.3, 0.3)
            for i in range(1, CUSTOMERS + 1)}
    assert "holdout" in want.values()
    first = dict(conn.execute(
        "select account_id, min(snapshot_date) from contact_history where source = 'plan' "
        "group by account_id").fetchall())
    held = conn.execute("select distinct snapshot_date, arm from collection_tiers "
                        "where suppression_reason = 'experiment_delay' order by 1").fetchall()
    assert held == [(nights[0], "holdout"), (nights[1], "holdout")]
    for i in range(1, CUSTOMERS + 1):
        arm = want[f"CU{i:07d}"]
        assert first[f"AC{i:08d}"] == (nights[2] if arm == "holdout" else nights[0])


def test_delay_never_holds_a_required_letter():
    assert experiments.required_treatments(STRATEGY) == [
        "final_notice", "formal_demand", "formal_demand_automated"]
