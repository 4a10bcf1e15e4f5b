"""A model failure never stops collections: degraded mode on the delinquency bucket alone.

Real in-process Dagster runs of the real assets. On a copy of the simulated model book, one
module fixture runs the model stage four times in a row, each with a real failure: the trainer
raising (monkeypatched to raise inside the real run), a first model the gate really refuses
(OVERDUE_MODEL_MIN_AUC above what it reaches), then, once a person promoted it, the trainer and
monitoring raising beside a champion, and scoring raising. On the real Taiwan book cut to three
month ends, one whole backfill through tiers, letters and the report. The young book's "not enough matured
data" night is tests/model/test_model_assets.py::test_a_young_book_runs_without_a_model.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from models.registry import ModelRegistry
from pipelines.cli import main
from tests.model.conftest import END
from tests.model.test_model_assets import MODEL_ENV, check_results

SOURCE = Path(__file__).parents[1] / "data" / "uci_taiwan_default" / "UCI_Credit_Card.csv"
MONTH_ENDS = (date(2005, 4, 30), date(2005, 5, 31), date(2005, 6, 30))
PAY_BILL = {date(2005, 4, 30): ("PAY_6", "BILL_AMT6"), date(2005, 5, 31): ("PAY_5", "BILL_AMT5"),
            date(2005, 6, 30): ("PAY_4", "BILL_AMT4")}
EVERY_NTH_ACCOUNT = 30  # 1,000 of the 30,000 accounts
# the strategy's tier of an unscored account by bucket (collection_strategy.yaml: no account is
# high risk or early warning, so M0 has none, M1 is soft, M2 early-high, and so on)
BUCKET_TIER = {"M0": None, "M1": "T1", "M2": "T2", "M3": "T3", "M4": "T4", "M5": "T4",
               "M6": "T4", "WO": "T5"}
NOTICE_EN = "Scores unavailable tonight: "
NOTICE_ZH = "本日无模型评分："

pytestmark = pytest.mark.slow


class Lines(logging.Handler):
    """The `overdue` CLI's warning lines."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def latest_run():
    from dagster import DagsterInstance

    return DagsterInstance.get().get_runs(limit=1)[0]


def metadata_of(run_id: str, key: str) -> dict:
    """The asset's materialization metadata in that run (the last partition's)."""
    from dagster import DagsterEventType, DagsterInstance

    events = [e for e in DagsterInstance.get().all_logs(
        run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
        if e.dagster_event.asset_key.to_user_string() == key]
    metadata = events[-1].dagster_event.event_specific_data.materialization.metadata
    return {k: getattr(v, "value", v) for k, v in metadata.items()}


def rows(home: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def run_model_stage(home: Path, lines: Lines) -> dict:
    """`overdue run --date END --groups model`: its exit code, warning lines and what it left."""
    lines.lines.clear()
    code = main(["run", "--date", END.isoformat(), "--groups", "model"])
    run = latest_run()
    registry = ModelRegistry(home / "registry")
    return {
        "exit": code,
        "warnings": list(lines.lines),
        "tags": dict(run.tags),
        "checks": check_results(run.run_id),
        "model": metadata_of(run.run_id, "delinquency_model"),
        "scores": metadata_of(run.run_id, "account_scores"),
        "reasons": metadata_of(run.run_id, "account_reason_codes"),
        "monitoring": metadata_of(run.run_id, "model_monitoring"),
        "champion": registry.champion(),
        "cards": {card["version"]: card["status"] for card in registry.list()},
        "status": rows(home, "select scored, degraded, cause, detail, model_version "
                             "from scoring_status where snapshot_date = ?", [END]),
        "scored": rows(home, "select count(*), count(distinct model_version) from account_scores "
                             "where snapshot_date = ?", [END])[0],
        "reason_rows": rows(home, "select count(*) from account_reason_codes "
                                  "where snapshot_date = ?", [END])[0][0],
    }


@pytest.fixture(scope="module")
def failures(book, tmp_path_factory):
    """The four runs, in order, each with its own failure."""
    # the assets import these where they run them: patched in the modules that define them
    from pipelines.lib.model import nightly
    from pipelines.lib.model import retrain as model_retrain

    def crashing_trainer(*args, **kwargs):
        raise RuntimeError("injected: the trainer ran out of memory\nsecond line never shown")

    def crashing_scorer(*args, **kwargs):
        raise ValueError("injected: booster feature mismatch")

    def crashing_monitor(*args, **kwargs):
        raise ZeroDivisionError("injected: empty window")

    book.conn.execute("checkpoint")
    home = tmp_path_factory.mktemp("degraded_home")
    shutil.copy(book.home / "warehouse.duckdb", home / "warehouse.duckdb")
    lines = Lines()
    logging.getLogger("overdue").addHandler(lines)
    results = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OVERDUE_HOME", str(home))
        patch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
        patch.setenv("OVERDUE_START_DATE", book.start.isoformat())
        for key, value in MODEL_ENV.items():
            patch.setenv(key, value)
        with pytest.MonkeyPatch.context() as crash:
            crash.setattr(model_retrain, "retrain_night", crashing_trainer)
            results["retrain_crash"] = run_model_stage(home, lines)
        patch.setenv("OVERDUE_MODEL_MIN_AUC", "0.99")  # the real first model reaches about 0.9
        results["refused"] = run_model_stage(home, lines)
        assert main(["model", "promote", "v0001", "--reason", "reviewed: degraded-mode test",
                     "--by", "head.of.risk"]) in (0, None)
        with pytest.MonkeyPatch.context() as crash:
            crash.setattr(model_retrain, "retrain_night", crashing_trainer)
            crash.setattr(nightly, "monitor_night", crashing_monitor)
            results["retrain_crash_with_champion"] = run_model_stage(home, lines)
            crash.setattr(nightly, "score_frame", crashing_scorer)
            results["scoring_crash"] = run_model_stage(home, lines)
    logging.getLogger("overdue").removeHandler(lines)
    return results


def assert_degraded(result: dict, cause: str, detail: str):
    """Exit 0, one warning line naming the cause, no scores, declared everywhere."""
    assert result["exit"] == 0
    degraded_lines = [line for line in result["warnings"] if "degraded mode" in line]
    assert len(degraded_lines) == 1 and detail in degraded_lines[0]
    assert detail in result["tags"]["overdue/degraded"]
    assert result["scores"]["degraded"] is True and result["scores"]["degraded_cause"] == cause
    assert result["reasons"]["degraded"] is True
    assert result["scores"]["status"].startswith("degraded mode: ")
    assert result["status"] == [(False, True, cause, result["status"][0][3], None)]
    assert detail in result["status"][0][3]
    assert result["scored"] == (0, 0) and result["reason_rows"] == 0
    checks = result["checks"]
    assert checks["assert_scores_match_features"] == (True, "ERROR")
    assert checks["assert_reason_codes_for_needing_accounts"] == (True, "ERROR")
    for name in ("score_psi", "feature_psi", "auc_on_matured_labels", "roll_rate_by_bucket"):
        assert checks[name][0], name
    assert result["monitoring"]["status"].startswith("not monitored: nothing to monitor")


def test_a_crashing_trainer_with_no_champion_is_degraded_mode_not_a_failed_run(failures):
    result = failures["retrain_crash"]
    assert_degraded(result, "retrain_failed", "RuntimeError: injected: the trainer ran out of memory")
    assert result["checks"]["champion_challenger_gate"] == (False, "WARN")
    assert result["model"]["status"].startswith("retrain failed: RuntimeError: injected")
    assert result["model"]["degraded"] is True
    everything = repr(result["model"]) + repr(result["scores"]) + result["tags"]["overdue/degraded"]
    assert "second line" not in everything and "Traceback" not in everything
    assert result["champion"] is None and result["cards"] == {}


def test_a_refused_first_model_stays_refused_and_the_night_runs_degraded(failures):
    result = failures["refused"]
    assert_degraded(result, "first_model_refused", "v0001 refused by the gate")
    assert result["checks"]["champion_challenger_gate"] == (False, "WARN")
    assert result["champion"] is None and result["cards"] == {"v0001": "challenger"}
    assert "overdue/warning_champion_challenger_gate" in result["tags"]


def test_a_crashing_trainer_beside_a_champion_leaves_the_champion_scoring(failures):
    result = failures["retrain_crash_with_champion"]
    assert result["exit"] == 0
    assert "overdue/degraded" not in result["tags"]
    assert not [line for line in result["warnings"] if "degraded mode" in line]
    assert result["checks"]["champion_challenger_gate"] == (False, "WARN")
    assert result["model"]["status"] == ("retrain failed: RuntimeError: injected: the trainer ran "
                                         "out of memory; the champion v0001 keeps scoring")
    assert result["champion"] == "v0001" and result["cards"] == {"v0001": "champion"}
    assert result["scores"]["degraded"] is False
    assert result["status"] == [(True, False, None, None, "v0001")]
    scored, versions = result["scored"]
    assert scored > 2000 and versions == 1 and result["reason_rows"] > 100
    # monitoring raising in the same run warns on its four checks, the run still succeeds
    assert result["monitoring"]["status"] == "monitoring failed: ZeroDivisionError: injected: empty window"
    for name in ("score_psi", "feature_psi", "auc_on_matured_labels", "roll_rate_by_bucket"):
        assert result["checks"][name] == (False, "WARN"), name


def test_a_crashing_scorer_leaves_the_night_without_scores(failures):
    result = failures["scoring_crash"]
    # the previous run's scores of the night are gone: the night's tiers ran on the bucket alone
    assert_degraded(result, "scoring_failed", "ValueError: injected: booster feature mismatch")
    assert result["champion"] == "v0001"


@pytest.fixture(scope="module")
def monthly_book(tmp_path_factory):
    """The real Taiwan book, every 30th account, its first three month ends, one backfill."""
    if not SOURCE.exists():
        pytest.skip(f"the Taiwan book is not at {SOURCE}")
    home = tmp_path_factory.mktemp("taiwan_three_month_ends")
    sample = pd.read_csv(SOURCE).iloc[::EVERY_NTH_ACCOUNT]
    sample.to_csv(home / "sample.csv", index=False)
    lines = Lines()
    logging.getLogger("overdue").addHandler(lines)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OVERDUE_HOME", str(home))
        patch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
        patch.delenv("OVERDUE_WAREHOUSE", raising=False)
        patch.setenv("OVERDUE_START_DATE", MONTH_ENDS[0].isoformat())
        assert main(["import", "taiwan", str(home / "sample.csv")]) in (0, None)
        for path in sorted((home / "landing").glob("*/*.csv")):
            if date.fromisoformat(path.stem) > MONTH_ENDS[-1]:
                path.unlink()
        lines.lines.clear()
        code = main(["backfill", "--start", MONTH_ENDS[0].isoformat(),
                     "--end", MONTH_ENDS[-1].isoformat()])
        run = latest_run()
        materialised = _materialised_partitions(run.run_id)
    logging.getLogger("overdue").removeHandler(lines)
    return {"home": home, "exit": code, "warnings": list(lines.lines), "tags": dict(run.tags),
            "materialised": materialised, "sample": sample}


def _materialised_partitions(run_id: str) -> dict[str, set[str]]:
    from dagster import DagsterEventType, DagsterInstance

    done: dict[str, set[str]] = {}
    for event in DagsterInstance.get().all_logs(run_id,
                                               of_type=DagsterEventType.ASSET_MATERIALIZATION):
        done.setdefault(event.dagster_event.asset_key.to_user_string(), set()).add(
            event.dagster_event.partition)
    return done


def test_a_monthly_book_with_three_month_ends_runs_through_in_degraded_mode(monthly_book):
    book = monthly_book
    assert book["exit"] == 0
    degraded = [line for line in book["warnings"] if "degraded mode" in line]
    assert len(degraded) == 1
    assert "not enough matured data for a first model" in degraded[0]
    assert book["tags"]["overdue/degraded"].startswith("not enough matured data")
    home = book["home"]
    nights = [n.isoformat() for n in MONTH_ENDS]
    for asset in ("account_scores", "collection_tiers", "contact_history", "letter_batches",
                  "credit_line_actions", "risk_report"):
        assert set(nights) <= book["materialised"][asset], asset
    # every account of every month end is tiered, except the rows the contract quarantines
    # (delinquent with nothing owed: PAY code >= 1 and a bill <= 0, counted here from the source)
    sample = book["sample"]
    tiers = dict(rows(home, """
        select snapshot_date, count(*) from collection_tiers
        where snapshot_date in (?, ?, ?) group by all""", list(MONTH_ENDS)))
    assert tiers == {night: len(sample) - int(((sample[pay] >= 1) & (sample[bill] <= 0)).sum())
                     for night, (pay, bill) in PAY_BILL.items()}
    # degraded: no account is scored, none is high risk or early warning, tiers by bucket alone
    assert rows(home, """
        select count(*) from collection_tiers
        where probability is not null or high_risk or early_warning""")[0][0] == 0
    by_bucket = rows(home, "select distinct bucket, tier from collection_tiers")
    assert {bucket for bucket, _ in by_bucket} >= {"M0", "M2", "M3"}  # code 1 is rare before Sep
    assert all(tier == BUCKET_TIER[bucket] for bucket, tier in by_bucket), by_bucket
    assert rows(home, "select count(*) from account_scores")[0][0] == 0
    assert rows(home, "select count(*) filter (where not degraded), count(distinct cause) "
                      "from scoring_status where snapshot_date in (?, ?, ?)",
                list(MONTH_ENDS)) == [(0, 1)]
    batch = home / "out" / "letters" / nights[-1]
    assert (batch / "summary.json").is_file() and (batch / "manifest.csv").is_file()

    reports = home / "out" / "reports" / nights[-1]
    for language, notice in (("en", NOTICE_EN), ("zh-CN", NOTICE_ZH)):
        for edition in ("", "month-end."):
            html = (reports / f"risk_report.{edition}{language}.html").read_text(encoding="utf-8")
            top = html[:html.index('class="privacy"')]
            assert notice in top, (language, edition)
            pdf = subprocess.run(["pdftotext", "-l", "1",
                                  str(reports / f"risk_report.{edition}{language}.pdf"), "-"],
                                 capture_output=True, text=True, check=True).stdout
            assert notice.rstrip(": ：") in pdf.replace("\n", " "), (language, edition)
    en = (reports / "risk_report.en.html").read_text(encoding="utf-8")
    assert ("Scores unavailable tonight: not enough matured data for a first model (") in en
    assert "tiers on delinquency bucket alone; high-risk and early-warning treatments not " \
           "applied." in en
