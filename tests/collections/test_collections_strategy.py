"""The strategy file: validated on load with errors that name the key; edits show as versions."""

import pytest
import yaml

from pipelines.lib.collections.strategy import STRATEGY_PATH, StrategyError, load_strategy


def write(tmp_path, edit) -> object:
    raw = yaml.safe_load(STRATEGY_PATH.read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "collection_strategy.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(("edit", "key"), [
    (lambda r: r["tiers"][2].update(buckets=["M7"]), "tiers[2].buckets: unknown bucket 'M7'"),
    (lambda r: r["tiers"][0].update(risk="medium"), "tiers[0].risk"),
    (lambda r: r["treatments"].pop("T3"), "treatments.T3: missing"),
    (lambda r: r["treatments"]["T1"]["contacts"][0].update(cadence="weekly"),
     "treatments.T1.contacts[0].cadence"),
    (lambda r: r["jurisdictions"]["US"]["send_time"].update(sms="22:30"),
     "jurisdictions.US.send_time.sms: 22:30 is outside allowed_hours 08:00-21:00"),
    (lambda r: r["suppressions"]["complaint"].update(lookback_days=-1),
     "suppressions.complaint.lookback_days"),
    (lambda r: r["jurisdictions"]["CN"]["lender"]["name"].pop("en-US"),
     "jurisdictions.CN.lender.name.en-US: missing"),
    (lambda r: r.update(default_jurisdiction="HK"), "default_jurisdiction"),
])
def test_an_invalid_strategy_names_the_key(tmp_path, edit, key):
    with pytest.raises(StrategyError) as error:
        load_strategy(write(tmp_path, edit))
    assert key in str(error.value)


def test_any_edit_is_a_new_strategy_version(tmp_path):
    base = load_strategy(write(tmp_path, lambda r: None))
    edited = load_strategy(write(tmp_path, lambda r: r["suppressions"]["complaint"].update(
        lookback_days=30)))
    assert base.version.split("+")[0] == edited.version.split("+")[0]
    assert base.version != edited.version
