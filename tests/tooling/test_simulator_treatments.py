"""The simulator's potential outcomes: treatments change cures as stated, a daily call harms
hardship cases, the none world changes nothing, the study's truth matches what the book does,
and the outcomes file answers only the contacts of its batch, in the shared interface's columns.
"""

from __future__ import annotations

import csv
import math
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from tooling.experiment_study import (
    CHALLENGER,
    CHAMPION,
    format_table,
    run_seed,
    simulate_experiment,
)
from tooling.simulator.outcomes import OUTCOME_COLUMNS, phone_queues, write_outcomes
from tooling.simulator.treatments import TreatmentWorld, arm_of, channel_mask, hardship_flags

STRATEGY = Path(__file__).resolve().parents[2] / "pipelines" / "config" / "collection_strategy.yaml"
# common.md, the shared interface of contact_outcomes
INTERFACE_COLUMNS = ("outcome_id", "contact_id", "outcome_time", "outcome", "promised_amount",
                     "promised_date", "offer_id", "agent_id", "agency_id", "source")
OUTCOMES = {"sent", "delivered", "failed", "bounced", "returned", "no_answer",
            "right_party_contact", "wrong_party", "refused", "promise_to_pay", "dispute_raised",
            "hardship_claimed", "offer_accepted", "offer_declined", "complaint"}


def test_cure_factors_are_the_stated_products():
    world = TreatmentWorld("effect", 1.0)
    masks = np.array([CHAMPION, CHALLENGER, CHALLENGER, 0, channel_mask(["letter", "phone"])])
    hardship = np.array([False, False, True, True, True])
    # sms 1.08 x email 1.04; sms 1.08 x phone 1.30; sms 1.08 x phone 0.65 (hardship); untreated 1;
    # letter 1.12 x phone 0.65
    expected = [1.1232, 1.404, 0.702, 1.0, 0.728]
    assert world.cure_multiplier(masks, hardship) == pytest.approx(expected)
    half = TreatmentWorld("effect", 0.5)
    assert half.cure_multiplier(masks[1:3], hardship[1:3]) == pytest.approx([1.04 * 1.15,
                                                                             1.04 * 0.825])
    # complaints: base 0.0004 treated, x3 under a daily call, x12 for a hardship case
    assert world.complaint_probability(masks, hardship) == pytest.approx(
        [0.0004, 0.0012, 0.0048, 0.0, 0.0048])


def test_none_world_every_potential_outcome_is_the_same():
    world = TreatmentWorld("none", 1.0)
    masks = np.array([CHAMPION, CHALLENGER, CHALLENGER, channel_mask(["phone"])])
    hardship = np.array([False, False, True, True])
    assert (world.cure_multiplier(masks, hardship) == 1.0).all()
    assert world.complaint_probability(masks, hardship) == pytest.approx([0.0004] * 4)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="treatment world"):
        TreatmentWorld("maybe")
    with pytest.raises(ValueError, match="effect size"):
        TreatmentWorld("effect", -1)
    with pytest.raises(ValueError, match="unknown channel 'fax'"):
        channel_mask(["fax"])


def test_arms_are_stable_customer_level_and_near_their_share():
    arms = [arm_of(3, "x", f"CU{c:07d}", 0.2) for c in range(20_000)]
    assert arms == [arm_of(3, "x", f"CU{c:07d}", 0.2) for c in range(20_000)]
    share = arms.count("challenger") / len(arms)
    assert abs(share - 0.2) < 3 * math.sqrt(0.2 * 0.8 / len(arms))
    # a holdout carved out in front keeps nobody's challenger arm from moving elsewhere but holdout
    with_holdout = [arm_of(3, "x", f"CU{c:07d}", 0.2, 0.1) for c in range(2_000)]
    assert all(b == "challenger" or a != "challenger" or b == "holdout" for a, b in
               zip(arms[:2_000], with_holdout, strict=True))


def test_arms_are_the_pipelines_assignment():
    """The same arms as sql/experiments/assign_arms.sql computes them, worked out here by DuckDB."""
    import duckdb

    ids = [f"CU{c:07d}" for c in range(1, 1_001)]
    with duckdb.connect() as conn:
        u = [row[0] for row in conn.execute(
            "select cast(cast('0x' || substr(sha256(concat_ws('|', 20261204, 'exp1', id)), 1, 15)"
            " as ubigint) as double) / pow(16, 15) from unnest(?) as t(id)", [ids]).fetchall()]
    expected = ["holdout" if x < 0.05 else "challenger" if x < 0.25 else "champion" for x in u]
    assert [arm_of(20261204, "exp1", i, 0.2, 0.05) for i in ids] == expected
    assert {"holdout", "challenger", "champion"} == set(expected)


def test_hardship_is_stable_and_likelier_among_the_riskier():
    risk = np.random.default_rng(0).standard_normal(50_000)
    flags = hardship_flags(risk, 5)
    assert (flags == hardship_flags(risk, 5)).all()
    assert 0.09 < flags.mean() < 0.16
    assert flags[risk > 1].mean() > flags[risk < -1].mean() * 1.5


@pytest.fixture(scope="module")
def everyone_champion():
    return simulate_experiment(4, nights=70, accounts=60_000, challenger_share=0.0)


@pytest.fixture(scope="module")
def everyone_challenger():
    return simulate_experiment(4, nights=70, accounts=60_000, challenger_share=1.0)


def _cure_rate(cohort, subset):
    chosen = cohort.matured & subset
    return cohort.cured[chosen].sum() / chosen.sum(), int(chosen.sum())


def test_a_daily_call_lowers_cure_for_hardship_cases_and_raises_it_for_others(
        everyone_champion, everyone_challenger):
    """The same book with every account on each treatment: the daily call's effect by group."""
    hard_a, n_hard = _cure_rate(everyone_champion, everyone_champion.hardship)
    hard_b, _ = _cure_rate(everyone_challenger, everyone_challenger.hardship)
    rest_a, n_rest = _cure_rate(everyone_champion, ~everyone_champion.hardship)
    rest_b, _ = _cure_rate(everyone_challenger, ~everyone_challenger.hardship)
    assert n_hard > 250 and n_rest > 1_200
    assert hard_b < hard_a - 0.06      # truth on this book: 0.51 -> 0.38
    assert rest_b > rest_a + 0.03      # truth on this book: 0.59 -> 0.65
    assert (everyone_challenger.complaints[everyone_challenger.hardship].sum()
            > 3 * everyone_champion.complaints[everyone_champion.hardship].sum())


def test_the_truth_is_what_the_book_does(everyone_champion, everyone_challenger):
    """Observed 30-day cure rates sit within sampling error of the mean true probability."""
    for cohort, truth in ((everyone_champion, everyone_champion.p_champion),
                          (everyone_challenger, everyone_challenger.p_challenger)):
        chosen = cohort.matured
        p = truth[chosen]
        observed = cohort.cured[chosen].sum()
        assert abs(observed - p.sum()) < 3.5 * math.sqrt((p * (1 - p)).sum())


def test_none_world_gives_equal_cure_rates_across_arms():
    result = run_seed(11, nights=70, accounts=120_000, world="none", challenger_share=0.5)
    assert result.true_lift == 0.0
    assert result.n_champion > 1_400 and result.n_challenger > 1_400
    p = (result.cured_champion + result.cured_challenger) / (result.n_champion
                                                             + result.n_challenger)
    se = math.sqrt(p * (1 - p) * (1 / result.n_champion + 1 / result.n_challenger))
    assert abs(result.interval.estimate) < 3 * se
    table = format_table([result], "none")
    assert "no significant difference" in table or "significant" in table
    assert "coverage: " in table


# --- the outcomes file ------------------------------------------------------------------------

PLANNED, NIGHT = date(2026, 5, 2), date(2026, 5, 3)


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def batch(tmp_path) -> Path:
    """A released batch as the pipeline writes it: three messages, two calls, one review task."""
    folder = tmp_path / "out" / "letters" / PLANNED.isoformat()
    _write(folder / "manifest.csv", [
        {"letter_id": "260502-AAAA000001", "account_id": "AC00000001", "customer_id": "CU0000001",
         "channel": "sms"},
        {"letter_id": "260502-AAAA000002", "account_id": "AC00000001", "customer_id": "CU0000001",
         "channel": "email"},
        {"letter_id": "260502-AAAA000003", "account_id": "AC00000003", "customer_id": "CU0000003",
         "channel": "letter"},
    ])
    _write(folder / "work_list.csv", [
        {"contact_id": "CT260502-0000000001", "queue": "phone_early", "account_id": "AC00000002",
         "customer_id": "CU0000002", "currency": "CNY", "past_due_amount": "812.40"},
        {"contact_id": "CT260502-0000000002", "queue": "specialist", "account_id": "AC00000004",
         "customer_id": "CU0000004", "currency": "USD", "past_due_amount": "95.00"},
        {"contact_id": "CT260502-0000000003", "queue": "credit_line_review",
         "account_id": "AC00000005", "customer_id": "CU0000005", "currency": "CNY",
         "past_due_amount": "0.00"},
    ])
    return tmp_path


def _outcomes(home: Path, seed: int, connect: float = 1.0, hardship: bool = False):
    result = write_outcomes(
        home, PLANNED, NIGHT, seed=seed, world=TreatmentWorld("effect", 1.0),
        hardship=np.full(5, hardship), customer_of=np.arange(5), connect=np.full(5, connect),
        strategy_path=STRATEGY, rng=np.random.default_rng(seed))
    with result.path.open(encoding="utf-8", newline="") as handle:
        return result, list(csv.DictReader(handle))


def test_phone_queues_are_the_strategys_call_queues():
    assert phone_queues(STRATEGY) == {"phone_early", "phone_formal", "specialist"}


def test_outcomes_answer_only_the_batchs_contacts_in_the_interface_columns(batch):
    messages = {"260502-AAAA000001": "sms", "260502-AAAA000002": "email",
                "260502-AAAA000003": "letter"}
    calls = {"CT260502-0000000001": "812.40", "CT260502-0000000002": "95.00"}
    seen_promise = False
    for seed in range(40):
        result, rows = _outcomes(batch, seed)
        assert result.path == batch / "landing" / "contact_outcomes" / "2026-05-03.csv"
        header = next(csv.reader(result.path.open(encoding="utf-8")))
        assert tuple(header) == INTERFACE_COLUMNS == OUTCOME_COLUMNS
        assert len({r["outcome_id"] for r in rows}) == len(rows)
        answered = {r["contact_id"] for r in rows if r["outcome"] != "complaint"}
        assert answered == set(messages) | set(calls)   # every message and call, no review task
        assert {r["contact_id"] for r in rows} <= set(messages) | set(calls)
        for r in rows:
            assert r["outcome"] in OUTCOMES
            when = datetime.fromisoformat(r["outcome_time"])
            assert when.utcoffset() is not None and when.date() <= NIGHT
            if r["contact_id"] in messages and r["outcome"] != "complaint":
                assert r["outcome"] in {"sms": {"delivered", "failed"},
                                        "email": {"delivered", "bounced"},
                                        "letter": {"sent", "returned"}}[messages[r["contact_id"]]]
                assert r["source"] == "gateway"
            if r["outcome"] == "promise_to_pay":
                seen_promise = True
                assert r["promised_amount"] == calls[r["contact_id"]]
                assert PLANNED < date.fromisoformat(r["promised_date"]) <= date(2026, 5, 12)
            else:
                assert r["promised_amount"] == "" and r["promised_date"] == ""
            if r["contact_id"] in calls and r["outcome"] != "complaint":
                assert r["source"] == "work_list" and r["agent_id"].startswith("AG")
    assert seen_promise
    assert result.treated == {0: channel_mask(["sms", "email"]), 2: channel_mask(["letter"]),
                              1: channel_mask(["phone"]), 3: channel_mask(["phone"])}


def test_unreachable_customers_give_no_answer_and_hardship_cases_claim_it(batch):
    _, rows = _outcomes(batch, 1, connect=0.0)
    assert {r["outcome"] for r in rows if r["source"] == "work_list"} == {"no_answer"}
    claims = 0
    for seed in range(30):
        _, rows = _outcomes(batch, seed, hardship=True)
        claims += sum(r["outcome"] == "hardship_claimed" for r in rows)
    assert claims > 15    # 2 calls x 30 nights x (0.96 right party) x about half


def test_no_batch_writes_a_header_only_file(tmp_path):
    result, rows = _outcomes(tmp_path, 1)
    assert rows == [] and result.rows == 0
    assert result.path.read_text(encoding="utf-8").strip() == ",".join(INTERFACE_COLUMNS)


def test_outcomes_pass_the_contact_outcomes_contract(batch):
    """Every row of a written file passes the feed's contract, its contacts known (runs once the
    contract of the outcomes feed is in the repository)."""
    duckdb = pytest.importorskip("duckdb")
    from pipelines.lib.ingest.contracts import load_contract
    from pipelines.lib.ingest.landing import read_landing_file
    from pipelines.lib.ingest.row_checks import run_row_checks

    try:
        contract = load_contract("contact_outcomes")
    except Exception:  # noqa: BLE001 - any failure to find it means: not merged yet
        pytest.skip("data_contracts/contact_outcomes.odcs.yaml is not in this checkout yet")
    conn = duckdb.connect()
    conn.execute("drop table if exists contact_history")
    conn.execute("create table contact_history (contact_id varchar)")
    conn.executemany("insert into contact_history values (?)", [
        ["260502-AAAA000001"], ["260502-AAAA000002"], ["260502-AAAA000003"],
        ["CT260502-0000000001"], ["CT260502-0000000002"], ["CT260502-0000000003"]])
    total = 0
    for seed in range(10):
        result, rows = _outcomes(batch, seed, hardship=seed % 2 == 0)
        landed = read_landing_file(result.path, contract)
        assert landed.structural_rejects == []
        run_row_checks(conn, contract, landed)
        assert conn.execute("select count(*) from violations").fetchone() == (0,)
        total += len(rows)
    assert total > 40


def _work_list_back(home: Path, seed: int):
    return write_outcomes(
        home, PLANNED, NIGHT, seed=seed, world=TreatmentWorld("effect", 1.0),
        hardship=np.full(5, seed % 2 == 0), customer_of=np.arange(5), connect=np.full(5, 0.8),
        strategy_path=STRATEGY, rng=np.random.default_rng(seed), work_list_back=True)


def test_call_dispositions_can_come_back_in_the_filled_work_list(batch):
    path = batch / "landing" / "work_list_outcomes" / "2026-05-03.csv"
    outcomes = set()
    for seed in range(20):
        result = _work_list_back(batch, seed)
        with result.path.open(encoding="utf-8", newline="") as handle:
            feed = list(csv.DictReader(handle))
        assert all(r["source"] == "gateway" for r in feed)      # receipts and complaints only
        with path.open(encoding="utf-8-sig", newline="") as handle:
            returned = {r["contact_id"]: r for r in csv.DictReader(handle)}
        assert set(returned) == {"CT260502-0000000001", "CT260502-0000000002",
                                 "CT260502-0000000003"}
        assert returned["CT260502-0000000003"]["outcome"] == ""   # a review task: left blank
        for contact_id in ("CT260502-0000000001", "CT260502-0000000002"):
            row = returned[contact_id]
            outcomes.add(row["outcome"])
            assert row["right_party_contact"] == ("no" if row["outcome"] in (
                "no_answer", "wrong_party") else "yes")
            assert (row["promise_amount"] != "") == (row["outcome"] == "promise_to_pay")
            assert row["queue"] in ("phone_early", "specialist")   # the released row, kept
    assert {"no_answer", "promise_to_pay"} <= outcomes


def test_the_filled_work_list_passes_the_work_list_outcomes_contract(batch):
    duckdb = pytest.importorskip("duckdb")
    from pipelines.lib.ingest.contracts import load_contract
    from pipelines.lib.ingest.landing import read_landing_file
    from pipelines.lib.ingest.row_checks import run_row_checks

    try:
        contract = load_contract("work_list_outcomes")
    except Exception:  # noqa: BLE001 - any failure to find it means: not merged yet
        pytest.skip("data_contracts/work_list_outcomes.odcs.yaml is not in this checkout yet")
    conn = duckdb.connect()
    conn.execute("drop table if exists contact_history")
    conn.execute("create table contact_history (contact_id varchar)")
    conn.executemany("insert into contact_history values (?)", [
        ["CT260502-0000000001"], ["CT260502-0000000002"], ["CT260502-0000000003"]])
    for seed in range(10):
        _work_list_back(batch, seed)
        landed = read_landing_file(
            batch / "landing" / "work_list_outcomes" / "2026-05-03.csv", contract)
        assert landed.structural_rejects == []
        run_row_checks(conn, contract, landed)
        assert conn.execute("select count(*) from violations").fetchone() == (0,)


def test_the_study_command_prints_the_table_and_writes_the_rows(tmp_path, capsys):
    from tooling.experiment_study import main

    out = tmp_path / "study.csv"
    assert main(["--seeds", "2", "--nights", "45", "--accounts", "20000", "--world", "none",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "coverage: " in printed and "no significant difference: " in printed
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["seed"] for r in rows] == ["1", "2"]
    for r in rows:
        assert float(r["true_lift"]) == 0.0
        n_a, n_b = int(r["n_champion"]), int(r["n_challenger"])
        assert float(r["measured_lift"]) == pytest.approx(
            int(r["cured_challenger"]) / n_b - int(r["cured_champion"]) / n_a, abs=1e-6)
        assert (r["covered"] == "True") == (float(r["low"]) <= 0 <= float(r["high"]))
