"""kill -9 at seeded random points of a night, rerun it: the same tables and files as a clean run.

Two trials here on a tiny night (every stage but the risk report); `scripts/chaos` (make chaos)
runs ten or more on a book with history, a model and whole nights, the report included.
"""

import pytest

from tests.reliability.harness import FAST_GROUPS, kill_trial


@pytest.mark.parametrize("seed", [101, 202])
def test_a_night_killed_at_a_random_point_and_rerun_equals_a_clean_run(tiny_night, seed):
    reference = tiny_night.reference
    assert not reference["tables"]["contact_history"].endswith("(0 rows)"), "nothing planned"
    assert any(name.endswith("manifest.csv") for name in reference["files"]), "no letter batch"
    # The kill comes within 0.6 of a clean run's time. A night that still ends before its kill
    # (the machine got quieter since the clean run) is tried again inside 0.6 of that night's time.
    max_delay_s = 0.6 * tiny_night.clean_seconds
    for attempt in range(3):
        trial = kill_trial(tiny_night.template, tiny_night.root / f"trial-{seed}-{attempt}",
                           tiny_night.night, seed, max_delay_s=max_delay_s,
                           min_delay_s=min(3.0, max_delay_s / 2),
                           reference=reference, groups=FAST_GROUPS)
        assert trial.ok, trial.line()
        if trial.killed:
            break
        max_delay_s = 0.6 * trial.finished_after_s
    assert trial.killed, f"the run ended before the kill: nothing was tested ({trial.line()})"
