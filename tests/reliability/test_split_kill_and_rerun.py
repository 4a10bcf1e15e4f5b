"""A split night killed twice and rerun ends as a clean split night, with no run left unfinished.

One simulated first night of 240 accounts in 2 shards (the daemon, the run history in a local
PostgreSQL), run cleanly in one home. In another:
- `overdue run` is SIGKILLed (its process group: the command, its daemon and the runs it
  launched) as soon as the night-level run after the first shard phase has begun a step, which
  leaves that run STARTED in the run history;
- the rerun must end it before it launches its own; in that rerun the worker process of a shard
  run that has begun a step is SIGKILLed while the command goes on: the command must fail,
  naming that run;
- a last rerun goes to the end. Every table over the book's and the shards' files, every out/
  file and the registry must equal the clean night's, and no run of the night may be unfinished.
"""

import os
import signal

import pytest

from tests.reliability.harness import (
    copy_home,
    differences,
    duplicate_contacts,
    fingerprint,
    night_args,
    run_overdue,
    split_runs,
    start_overdue,
    started_run,
    stop_postgres,
    unfinished_runs,
)
from tooling.simulator import simulate

ENV = {"OVERDUE_SHARDS": "2", "OVERDUE_REPORT_LANGUAGES": "en"}


@pytest.fixture(scope="module")
def split_night(tmp_path_factory):
    root = tmp_path_factory.mktemp("split-chaos")
    template = root / "template"
    night = simulate(template, accounts=240, days=1, seed=31).end_date
    clean = copy_home(template, root / "clean")
    homes = [clean]
    try:
        code, err = run_overdue(clean, *night_args(night), **ENV)
        assert code == 0, err[-3000:]
        assert not unfinished_runs(clean, night)
        yield template, night, fingerprint(clean), root, homes
    finally:
        for home in homes:
            stop_postgres(home)


def test_a_split_night_killed_and_rerun_equals_a_clean_one(split_night):
    template, night, reference, root, homes = split_night
    assert not reference["tables"]["contact_history"].endswith("(0 rows)"), "nothing planned"
    home = copy_home(template, root / "killed")
    homes.append(home)

    command = start_overdue(home, *night_args(night), **ENV)
    found = started_run(home, night, "nightly", lambda: command.poll() is None)
    assert found, "the night-level run never began a step before the command ended"
    os.killpg(command.pid, signal.SIGKILL)
    command.wait()
    command.stderr.close()
    left = unfinished_runs(home, night)
    assert (found[0], "nightly", night.isoformat(), "STARTED") in left, left

    command = start_overdue(home, *night_args(night), **ENV)
    shard_run = started_run(home, night, "nightly_shard", lambda: command.poll() is None)
    assert shard_run, "no shard run began a step before the rerun ended"
    assert not {run for run in unfinished_runs(home, night) if run[0] == found[0]}, (
        "the killed command's run is still unfinished while the rerun runs")
    os.kill(shard_run[1], signal.SIGKILL)
    _, err = command.communicate(timeout=600)
    message = err.decode("utf-8", "replace")
    assert command.returncode == 1, message[-2000:]
    assert f"run {shard_run[0]}" in message and "did not end" in message, message[-2000:]

    code, err = run_overdue(home, *night_args(night), **ENV)
    assert code == 0, err[-3000:]
    assert not differences(reference, fingerprint(home))
    assert not duplicate_contacts(home)
    assert not unfinished_runs(home, night)
    statuses = {run[0]: run[3] for run in split_runs(home, night)}
    assert statuses[found[0]] == "FAILURE" and statuses[shard_run[0]] == "FAILURE"
