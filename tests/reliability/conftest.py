"""One tiny simulated night shared by the reliability tests, and its clean run's fingerprint.

200 accounts, one night (the book's first: every treatment is planned, letters are written),
every stage but the risk report (see harness.FAST_GROUPS), run by `overdue` in a subprocess.
"""

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from tests.reliability.harness import FAST_GROUPS, copy_home, fingerprint, night_args, run_overdue
from tooling.simulator import simulate


@dataclass(frozen=True)
class TinyNight:
    template: Path  # landing files only: the night has not run
    night: date
    reference: dict  # fingerprint of a clean run of the night in another home
    clean_seconds: float
    root: Path


@pytest.fixture(scope="session")
def tiny_night(tmp_path_factory) -> TinyNight:
    root = tmp_path_factory.mktemp("reliability")
    template = root / "template"
    night = simulate(template, accounts=200, days=1, seed=11).end_date
    clean = copy_home(template, root / "clean")
    started = time.monotonic()
    code, err = run_overdue(clean, *night_args(night, FAST_GROUPS))
    assert code == 0, err
    return TinyNight(template, night, fingerprint(clean), time.monotonic() - started, root)
