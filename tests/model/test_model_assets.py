"""The model stage as Dagster runs it: retrain, gate, score, explain, monitor; rerun; overrule.

Real in-process Dagster runs (`overdue run --groups model`) over a copy of the simulated book's
warehouse, with the model settings of tests/models/conftest.py passed the way an operator would:
OVERDUE_MODEL_* environment variables.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from models.registry import ModelRegistry
from pipelines.cli import main, run_nights
from tests.conftest import NIGHT, snapshot_row, write_night
from tests.model.conftest import END

MODEL_ENV = {
    "OVERDUE_MODEL_TRAINING_WINDOW_DAYS": "120",
    "OVERDUE_MODEL_VALIDATION_DAYS": "21",
    "OVERDUE_MODEL_MONITORING_DAYS": "14",
    "OVERDUE_MODEL_REQUIRED_HISTORY_DAYS": "21",
    "OVERDUE_MODEL_SAMPLE_CURRENT_SHARE": "0.9",
    "OVERDUE_MODEL_LEARNING_RATE": "0.1",
    "OVERDUE_MODEL_NTHREAD": "1",
}


@pytest.fixture
def model_home(book, tmp_path, monkeypatch):
    book.conn.execute("checkpoint")
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(book.home / "warehouse.duckdb", home / "warehouse.duckdb")
    monkeypatch.setenv("OVERDUE_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    monkeypatch.setenv("OVERDUE_START_DATE", book.start.isoformat())
    for key, value in MODEL_ENV.items():
        monkeypatch.setenv(key, value)
    return home


def query(home, sql: str, params=None):
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def check_results(run_id: str | None = None) -> dict[str, tuple[bool, str]]:
    """The latest evaluation of every check: (passed, severity)."""
    from dagster import DagsterEventType, DagsterInstance, EventRecordsFilter

    instance = DagsterInstance.get()
    results = {}
    for record in instance.get_event_records(
            EventRecordsFilter(event_type=DagsterEventType.ASSET_CHECK_EVALUATION),
            ascending=True):
        data = record.event_log_entry.dagster_event.event_specific_data
        if run_id is None or record.event_log_entry.run_id == run_id:
            results[data.check_name] = (data.passed, data.severity.value)
    return results


def latest_metadata(key: str) -> dict:
    from dagster import AssetKey, DagsterInstance

    event = DagsterInstance.get().get_latest_materialization_event(AssetKey(key))
    return {k: getattr(v, "value", v) for k, v in event.asset_materialization.metadata.items()}


def table_contents(home) -> dict[str, list]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        return {table: sorted(conn.table(table).fetchall(), key=repr)
                for table in ("account_scores", "account_reason_codes", "model_monitoring")}


def test_a_night_trains_gates_promotes_scores_explains_and_monitors(model_home):
    run_nights(END, END, ["model"])

    registry = ModelRegistry(model_home / "registry")
    assert registry.champion() == "v0001"
    card = registry.card("v0001")
    assert card["status"] == "champion" and card["data_window"]["as_of"] == END.isoformat()

    (features, scored, written_off_scored, unscored) = query(model_home, """
        select count(*), count(s.account_id),
               count(*) filter (where f.bucket = 'WO' and s.probability is not null),
               count(*) filter (where f.bucket <> 'WO' and s.probability is null)
        from account_features f left join account_scores s using (snapshot_date, account_id)
        where f.snapshot_date = ?""", [END])[0]
    assert features > 2000 and scored == features
    assert written_off_scored == 0 and unscored == 0
    (needing, explained, ranks) = query(model_home, """
        select count(*) filter (where needs_reasons),
               (select count(distinct account_id) from account_reason_codes where snapshot_date = ?),
               (select max(rank) from account_reason_codes)
        from account_scores where snapshot_date = ?""", [END, END])[0]
    assert needing > 100 and explained >= 0.95 * needing and ranks == 3
    overdue_without_reasons = query(model_home, """
        select count(*) from account_scores s
        where s.snapshot_date = ? and s.days_past_due > 0 and s.probability is not null
          and not exists (select 1 from account_reason_codes r
                          where r.snapshot_date = s.snapshot_date and r.account_id = s.account_id)
        """, [END])[0][0]
    assert overdue_without_reasons <= 0.05 * needing

    monitored = {(m, s): v for m, s, v in query(
        model_home, "select measure, subject, value from model_monitoring where snapshot_date = ?",
        [END])}
    assert ("psi", "score") in monitored and ("auc", "matured") in monitored
    assert monitored[("auc", "matured")] == pytest.approx(card["metrics"]["validation"]["auc"],
                                                          abs=0.05)
    # monitoring reads nights after the validation window: none the model stopped on
    first_monitored = query(model_home, """
        select min(window_first_night) from model_monitoring
        where snapshot_date = ? and measure = 'auc'""", [END])[0][0]
    assert first_monitored.isoformat() > card["data_window"]["validation"]["last_night"]
    assert (model_home / "out" / "monitoring" / END.isoformat() / "monitoring.html").is_file()

    checks = check_results()
    assert checks["champion_challenger_gate"][0]
    assert checks["assert_scores_match_features"][0]
    assert checks["assert_reason_codes_for_needing_accounts"][0]
    assert {"score_psi", "feature_psi", "auc_on_matured_labels", "roll_rate_by_bucket"} <= set(checks)
    metadata = latest_metadata("delinquency_model")
    assert metadata["challenger"] == "v0001" and 0.5 < metadata["auc"] <= 1
    assert "# Model card: roll_forward v0001" in metadata["model_card"]


def test_rerunning_a_night_changes_nothing(model_home):
    run_nights(END, END, ["model"])
    registry = ModelRegistry(model_home / "registry")
    events, before = registry.events(), table_contents(model_home)
    run_nights(END, END, ["model"])
    assert registry.events() == events
    assert [card["version"] for card in registry.list()] == ["v0001"]
    assert table_contents(model_home) == before


def test_a_refused_challenger_leaves_the_champion_scoring_and_a_person_can_overrule(
        model_home, monkeypatch):
    run_nights(END, END, ["model"])
    monkeypatch.setenv("OVERDUE_MODEL_SEED", "11")
    monkeypatch.setenv("OVERDUE_MODEL_AUC_MARGIN", "-0.5")  # must beat the champion by 0.5
    run_nights(END, END, ["model"])

    registry = ModelRegistry(model_home / "registry")
    assert registry.champion() == "v0001"
    assert registry.card("v0002")["status"] == "challenger"
    passed, severity = check_results()["champion_challenger_gate"]
    assert not passed and severity == "WARN"
    assert query(model_home, "select distinct model_version from account_scores "
                             "where snapshot_date = ?", [END]) == [("v0001",)]

    assert main(["model", "promote", "v0002", "--reason", "reviewed by risk committee",
                 "--by", "head.of.risk"]) in (0, None)
    run_nights(END, END, ["model"])
    assert registry.champion() == "v0002"
    assert query(model_home, "select distinct model_version from account_scores "
                             "where snapshot_date = ?", [END]) == [("v0002",)]
    promoted = [e for e in registry.events() if e["event"] == "promoted"][-1]
    assert promoted["by"] == "head.of.risk" and promoted["reason"] == "reviewed by risk committee"


def test_a_young_book_runs_without_a_model(home, caplog):
    """Not enough matured data: degraded mode, declared on the assets, the run, the report."""
    write_night(home, NIGHT, [snapshot_row(NIGHT), snapshot_row(NIGHT, number=2, days_past_due="5",
                                                                past_due_amount="50.00")])
    with caplog.at_level("WARNING", logger="overdue"):
        assert main(["run", "--date", NIGHT.isoformat()]) in (0, None)
    degraded = [r.getMessage() for r in caplog.records if "degraded mode" in r.getMessage()]
    assert len(degraded) == 1 and "not enough matured data for a first model" in degraded[0]
    metadata = latest_metadata("delinquency_model")
    assert metadata["status"].startswith("not enough matured data")
    assert metadata["degraded"] is True and metadata["degraded_cause"] == "not_enough_data"
    scores = latest_metadata("account_scores")
    assert scores["status"].startswith("degraded mode: not enough matured data")
    assert scores["degraded"] is True and scores["dagster/row_count"] == 0
    assert latest_metadata("model_monitoring")["status"].startswith(
        "not monitored: nothing to monitor: scores unavailable tonight")
    assert check_results()["champion_challenger_gate"][0]
    assert not (home / "registry").exists() or not ModelRegistry(home / "registry").list()
    assert query(home, "select degraded, cause from scoring_status where snapshot_date = ?",
                 [NIGHT]) == [(True, "not_enough_data")]
    # tiers ran on the bucket alone: the account 5 days past due has its tier
    assert query(home, "select account_id, tier, probability from collection_tiers "
                       "where snapshot_date = ? and tier is not null", [NIGHT]) == [
        ("AC00000002", "T1", None)]
    report = home / "out" / "reports" / NIGHT.isoformat()
    assert ("Scores unavailable tonight: not enough matured data for a first model"
            in (report / "risk_report.en.html").read_text(encoding="utf-8"))
    assert "本日无模型评分：已到期数据不足" in (report / "risk_report.zh-CN.html").read_text(
        encoding="utf-8")
