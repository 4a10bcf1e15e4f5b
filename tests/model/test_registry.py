"""Registry, gate, promote and rollback: every decision on disk, the champion by replay."""

from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np
import pytest

from models.evaluate import evaluate
from models.registry import ModelRegistry, RegistryError, build_card, gate
from models.train import train_model
from pipelines.lib.model.retrain import code_commit, retrain_night, source_definitions
from tests.model.conftest import CONFIG, END


@pytest.fixture(scope="module")
def metrics(split, model):
    return evaluate(model, split[1])


def test_gate_promotes_a_fine_challenger(metrics):
    decision = gate(metrics, copy.deepcopy(metrics), CONFIG)
    assert decision.promote, decision.reasons
    first = gate(metrics, None, CONFIG)
    assert first.promote and "no champion yet" in first.reasons


def test_gate_refuses_a_worse_challenger(split, metrics):
    train, validation = split
    weak = train_model(train, validation, dataclasses.replace(CONFIG, num_boost_round=40),
                       feature_names=["months_on_book", "credit_limit"])
    weak_metrics = evaluate(weak, validation)
    assert weak_metrics["auc"] < metrics["auc"] - CONFIG.auc_margin
    decision = gate(weak_metrics, metrics, CONFIG)
    assert not decision.promote
    assert any(reason.startswith("AUC") and "<" in reason for reason in decision.reasons)


def test_gate_refuses_a_miscalibrated_challenger(metrics):
    shifted = copy.deepcopy(metrics)
    shifted["mean_predicted"] += 3 * CONFIG.calibration_tolerance
    for row in shifted["calibration_by_bucket"]:
        if row["bucket"] == "M1":
            row["mean_predicted"] += 0.3
            row["difference"] += 0.3
    decision = gate(shifted, metrics, CONFIG)
    assert not decision.promote
    assert any(reason.startswith("overall calibration") for reason in decision.reasons)
    assert any(reason.startswith("bucket M1 calibration") for reason in decision.reasons)


def _miss_bucket(metrics: dict, bucket: str, by: float) -> dict:
    shifted = copy.deepcopy(metrics)
    for row in shifted["calibration_by_bucket"]:
        if row["bucket"] == bucket:
            row["mean_predicted"] += by
            row["difference"] += by
    return shifted


def test_a_bucket_miss_no_worse_than_the_champions_does_not_block(metrics):
    challenger = _miss_bucket(metrics, "M1", 0.2)
    same_miss = gate(challenger, _miss_bucket(metrics, "M1", 0.25), CONFIG)
    assert same_miss.promote, same_miss.reasons
    assert any("no further off than the champion" in r for r in same_miss.reasons)
    worse_miss = gate(challenger, metrics, CONFIG)
    assert not worse_miss.promote
    assert any(r.startswith("bucket M1 calibration") for r in worse_miss.reasons)


def test_the_first_model_needs_the_auc_floor_and_overall_calibration(metrics):
    bucket_miss = gate(_miss_bucket(metrics, "M1", 0.2), None, CONFIG)
    assert bucket_miss.promote, bucket_miss.reasons
    assert any(r.startswith("warning: bucket M1 calibration") for r in bucket_miss.reasons)
    weak = copy.deepcopy(metrics)
    weak["auc"] = CONFIG.min_auc - 0.01
    refused = gate(weak, None, CONFIG)
    assert not refused.promote
    assert any(r.startswith("AUC") and "< floor" in r for r in refused.reasons)
    off = copy.deepcopy(metrics)
    off["mean_predicted"] += 3 * CONFIG.calibration_tolerance
    assert not gate(off, None, CONFIG).promote


def test_gate_refuses_metrics_from_another_window(metrics):
    other = copy.deepcopy(metrics)
    other["window"]["last_night"] = "2025-01-01"
    decision = gate(metrics, other, CONFIG)
    assert not decision.promote
    assert any(reason.startswith("not the same window") for reason in decision.reasons)


def test_register_load_promote_rollback(tmp_path, split, model, metrics):
    registry = ModelRegistry(tmp_path / "registry")
    card = build_card(model, metrics, CONFIG, code=code_commit(), as_of=END.isoformat())
    first = registry.register(model, card, source_definitions=source_definitions())
    second = registry.register(model, card, source_definitions=source_definitions())
    assert (first, second) == ("v0001", "v0002")
    assert registry.champion() is None

    version_dir = tmp_path / "registry" / first
    assert sorted(p.name for p in version_dir.iterdir()) == [
        "card.json", "card.md", "features.json", "model.json", "reference.json"]
    assert "learner" in json.loads((version_dir / "model.json").read_text())
    features = json.loads((version_dir / "features.json").read_text())["features"]
    assert all(row["definition"] for row in features)
    saved_card = json.loads((version_dir / "card.json").read_text())
    assert saved_card["code"]["commit"]
    assert saved_card["data_window"]["training"]["rows"] == len(split[0])
    assert saved_card["metrics"]["validation"]["auc"] == pytest.approx(metrics["auc"])

    loaded = registry.load(first)
    assert loaded.version == first
    np.testing.assert_allclose(loaded.predict(split[1]), model.predict(split[1]), rtol=1e-6)

    registry.promote(first, reason="first model", by="analyst.li")
    registry.promote(second, reason="better on the May window", by="analyst.li")
    assert registry.champion() == second
    assert {c["version"]: c["status"] for c in registry.list()} == {
        first: "retired", second: "champion"}

    event = registry.rollback(reason="complaints about grade E volume", by="risk.head")
    assert registry.champion() == first
    assert event["from_version"] == second and event["by"] == "risk.head"
    assert {c["version"]: c["status"] for c in registry.list()} == {
        first: "champion", second: "retired"}
    assert json.loads((version_dir / "card.json").read_text())["status"] == "champion"
    assert "**Status**: champion" in (version_dir / "card.md").read_text()

    kinds = [(e["event"], e["version"]) for e in registry.events()]
    assert kinds == [("registered", first), ("registered", second), ("promoted", first),
                     ("promoted", second), ("rolled_back", first)]
    lines = (tmp_path / "registry" / "events.jsonl").read_text().splitlines()
    assert len(lines) == 5 and all(json.loads(line)["at"] for line in lines)

    with pytest.raises(RegistryError):
        registry.rollback(reason="again", by="risk.head")
    with pytest.raises(RegistryError):
        registry.promote(first, reason="already", by="risk.head")
    with pytest.raises(RegistryError):
        registry.load("v0099")


def test_retrain_registers_and_gates_against_the_champion_on_the_same_window(book, tmp_path):
    registry = ModelRegistry(tmp_path / "registry")
    first = retrain_night(book.conn, END, registry, CONFIG, by="nightly")
    assert first.decision.promote and registry.champion() == first.version
    events = registry.events()
    rerun = retrain_night(book.conn, END, registry, CONFIG, by="nightly")
    assert rerun.reused and rerun.version == first.version
    assert registry.events() == events, "a rerun on the same data registers nothing"
    second = retrain_night(book.conn, END, registry, dataclasses.replace(CONFIG, seed=8),
                           by="nightly")
    assert not second.reused and second.version != first.version
    assert second.champion_metrics["window"] == second.metrics["window"]
    assert second.decision.promote and registry.champion() == second.version
    card = registry.card(second.version)
    assert card["gate"]["promote"] and card["psi"]["score"]["psi"] >= 0
    assert card["data_window"]["label_coverage"]["absent_at_label_date"] > 0
    gates = [e for e in registry.events() if e["event"] == "gate"]
    assert [g["against"] for g in gates] == [None, first.version]
