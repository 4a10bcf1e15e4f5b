"""Two launches of the same night at once: one runs, the other fails at once saying why."""

import time

from tests.reliability.harness import (
    FAST_GROUPS,
    copy_home,
    fingerprint,
    night_args,
    start_overdue,
)
from tooling.simulator import simulate


def test_two_launches_of_a_night_at_once_one_runs_the_other_fails_naming_it(tiny_night):
    home = copy_home(tiny_night.template, tiny_night.root / "twice")
    night = tiny_night.night
    launches = [start_overdue(home, *night_args(night, FAST_GROUPS)) for _ in range(2)]
    errors = {p.pid: p.communicate(timeout=600)[1].decode() for p in launches}
    codes = sorted((p.returncode, p.pid) for p in launches)
    assert [code for code, _ in codes] == [0, 1], errors
    (winner, _), (loser, _) = [(pid, code) for code, pid in codes]
    (line,) = [x for x in errors[loser].splitlines() if x.startswith("overdue run:")]
    assert f"is in use by another run (pid {winner}, run " in line
    assert f"night(s) {night}" in line and str(home / "warehouse.duckdb") in line
    assert "this run changed nothing: wait for that run to end" in line
    assert (home / "warehouse.duckdb.lock").read_text() == ""  # released at the winner's end
    assert fingerprint(home) == tiny_night.reference


def test_the_run_lock_is_released_when_a_run_is_killed(tmp_path):
    """flock dies with its process: a killed run never leaves a stale lock behind."""
    import os
    import signal

    from pipelines.lib.warehouse import RunLock

    home = tmp_path / "home"
    night = simulate(home, accounts=20, days=1, seed=5).end_date
    process = start_overdue(home, *night_args(night, ["ingest"]))
    lock = home / "warehouse.duckdb.lock"
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text().startswith(f"pid {process.pid}")):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    mine = RunLock(home / "warehouse.duckdb", "test")
    mine.acquire()
    assert mine.held
    mine.release()
