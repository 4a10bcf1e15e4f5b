"""A damaged or locked warehouse file: the night fails at once naming the file, never runs empty."""

import subprocess
import sys
import time

import pytest

from pipelines import settings
from pipelines.cli import CommandError, main, run_nights
from tests.conftest import NIGHT, snapshot_row, use_home, write_night

GROUPS = ["ingest", "features"]


@pytest.fixture(scope="module")
def good_warehouse(tmp_path_factory) -> bytes:
    """The bytes of a warehouse holding one night (ingest and features)."""
    home = tmp_path_factory.mktemp("good")
    with pytest.MonkeyPatch.context() as env:
        use_home(env, home)
        write_night(home, NIGHT, [snapshot_row(number=i) for i in range(1, 4)])
        run_nights(NIGHT, NIGHT, GROUPS)
        return settings.warehouse_path().read_bytes()


@pytest.mark.parametrize("damage", ["overwritten_header", "truncated", "empty"])
def test_a_damaged_warehouse_fails_the_night_naming_the_file(home, capsys, good_warehouse, damage):
    write_night(home, NIGHT, [snapshot_row(number=i) for i in range(1, 4)])
    warehouse = settings.warehouse_path()
    damaged = {"overwritten_header": b"\0" * 4096 + good_warehouse[4096:],
               "truncated": good_warehouse[: len(good_warehouse) // 3], "empty": b""}[damage]
    warehouse.write_bytes(damaged)
    started = time.monotonic()
    with pytest.raises(CommandError, match=rf"warehouse {warehouse} (cannot be opened|could not "
                       r"be read), it is damaged.*\(IO Error: .*\); move it away to rebuild"):
        run_nights(NIGHT, NIGHT, GROUPS)
    assert time.monotonic() - started < 60, "a damaged file must fail at once, not after retries"
    if damage != "truncated":  # DuckDB opens a truncated file and rewrites its header block
        assert warehouse.read_bytes() == damaged  # left as it was, for whoever investigates

    capsys.readouterr()
    assert main(["summary"]) == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("overdue summary: ") and str(warehouse) in line


def test_a_warehouse_locked_by_another_process_fails_naming_the_file_and_process(
        home, monkeypatch, good_warehouse):
    write_night(home, NIGHT, [snapshot_row(number=i) for i in range(1, 4)])
    warehouse = settings.warehouse_path()
    warehouse.write_bytes(good_warehouse)
    hold = ("import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
            "print('holding', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(warehouse)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"holding\n"
        monkeypatch.setenv("OVERDUE_WAREHOUSE_LOCK_WAIT_SECONDS", "2")
        started = time.monotonic()
        with pytest.raises(CommandError, match=rf"warehouse {warehouse} is locked by another "
                           rf"process after waiting 2 s \(.*PID {holder.pid}\b"):
            run_nights(NIGHT, NIGHT, ["ingest"])
        assert time.monotonic() - started < 60
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    run_nights(NIGHT, NIGHT, ["ingest"])  # once the other process lets go, the night runs
