"""A split book's sensor runs its nights phase by phase, to the one-warehouse night's tables.

The sensor is evaluated as the daemon would (a tick, its run requests launched, the next tick),
the runs executed in this process on one Dagster instance; the book's two nights must end as
the same nights run by `overdue run` as one warehouse, and a failed phase must stop the sensor.
"""

import fcntl
from datetime import timedelta

import dagster as dg
import pytest

from pipelines.defs.sensors import SPLIT_RUN_LOCK
from tests.reliability.harness import (
    SHARD_RUN_RECORDS,
    copy_home,
    output_fingerprint,
    run_overdue,
    warehouse_fingerprint,
)
from tooling.simulator import simulate

SHARDS = 3
NIGHTS = 2


def tick(instance, definitions):
    sensor = definitions.get_repository_def().get_sensor_def("split_night_sensor")
    context = dg.build_sensor_context(instance=instance,
                                      repository_def=definitions.get_repository_def())
    return sensor(context)


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    root = tmp_path_factory.mktemp("sensor")
    template = root / "template"
    end = simulate(template, accounts=150, days=NIGHTS, seed=31).end_date
    one = copy_home(template, root / "one")
    for offset in range(NIGHTS - 1, -1, -1):
        code, err = run_overdue(one, "run", "--date", (end - timedelta(days=offset)).isoformat(),
                                OVERDUE_REPORT_LANGUAGES="en")
        assert code == 0, err[-3000:]
    return {"one": one, "split": copy_home(template, root / "split"), "end": end}


def test_the_sensor_runs_each_night_phase_by_phase(books, monkeypatch):
    from pipelines.definitions import loaded_definitions

    split = books["split"]
    monkeypatch.setenv("OVERDUE_HOME", str(split))
    monkeypatch.setenv("OVERDUE_SHARDS", str(SHARDS))
    monkeypatch.setenv("OVERDUE_REPORT_LANGUAGES", "en")
    monkeypatch.setenv("OVERDUE_SENSOR_LOOKBACK_DAYS", "30")
    definitions = loaded_definitions()
    rounds = []
    with dg.DagsterInstance.ephemeral() as instance:
        while not isinstance(requests := tick(instance, definitions), dg.SkipReason):
            rounds.append((requests[0].partition_key.split("|")[0] if "|" in str(
                requests[0].partition_key) else requests[0].partition_key, len(requests)))
            for request in requests:
                job = definitions.resolve_job_def(request.job_name)
                result = job.execute_in_process(
                    instance=instance, partition_key=request.partition_key,
                    asset_selection=[dg.AssetKey.from_coercible(k) if not isinstance(
                        k, dg.AssetKey) else k for k in request.asset_selection],
                    raise_on_error=False)
                assert result.success, request
            assert len(rounds) <= 4 * NIGHTS
        assert "every landed night is done" in requests.skip_message
    nights = [(books["end"] - timedelta(days=offset)).isoformat()
              for offset in range(NIGHTS - 1, -1, -1)]
    assert rounds == [(night, count) for night in nights
                      for count in (SHARDS, 1, SHARDS, 1)]
    one, mine = warehouse_fingerprint(books["one"]), warehouse_fingerprint(split)
    assert {t: one[t] for t in one if t not in SHARD_RUN_RECORDS} == \
        {t: mine.get(t) for t in one if t not in SHARD_RUN_RECORDS}
    letters = {name: sha for name, sha in output_fingerprint(books["one"]).items()
               if name.startswith(("letters/", "reports/"))}
    assert letters and letters == {name: output_fingerprint(split).get(name) for name in letters}


def test_a_failed_phase_or_a_running_command_stops_the_sensor(books, monkeypatch, tmp_path):
    from pipelines.definitions import loaded_definitions

    home = copy_home(books["split"].parent / "template", tmp_path / "failed")
    monkeypatch.setenv("OVERDUE_HOME", str(home))
    monkeypatch.setenv("OVERDUE_SHARDS", str(SHARDS))
    monkeypatch.setenv("OVERDUE_SENSOR_LOOKBACK_DAYS", "30")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    definitions = loaded_definitions()
    with dg.DagsterInstance.ephemeral() as instance:
        with open(tmp_path / "dagster_home" / SPLIT_RUN_LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # as `overdue run` holds it while it runs the book
            held = tick(instance, definitions)
        assert isinstance(held, dg.SkipReason) and "overdue run" in held.skip_message
        first = tick(instance, definitions)
        assert len(first) == SHARDS
        job = definitions.resolve_job_def("nightly_shard")
        run = instance.create_run_for_job(
            job_def=job, asset_selection=frozenset(first[0].asset_selection),
            tags=dict(job.get_tags_for_partition_key(first[0].partition_key,
                                                     selected_asset_keys=first[0].asset_selection)))
        instance.report_run_failed(run, message="killed")
        stopped = tick(instance, definitions)
    assert isinstance(stopped, dg.SkipReason)
    assert "failed in run" in stopped.skip_message and run.run_id in stopped.skip_message
    assert str(first[0].partition_key) in stopped.skip_message
