"""The end-to-end night bench (issue 7) at a tiny size: a real book, the real nightly job, the
kernels in the same run, and the JSON record `make bench` compares from run to run."""

import json

import pytest

from tooling.bench import night as bench_night

REQUIRED_STAGES = ("ingest", "contracts", "features", "roll rates", "retrain+gate",
                   "scoring+reason codes", "tiers", "letters", "report")


def test_a_tiny_night_gives_every_stage_a_time_and_the_issue_json(home, capsys):
    tiny = ["--accounts", "2000", "--history-days", "40", "--home", str(home / "books")]
    # the book built on its own first (as a W10M book is), then its night measured on it
    assert bench_night.main([*tiny, "--book-only"]) == 0
    assert not list((home / "bench").glob("night-*.json"))
    assert bench_night.main([*tiny, "--reuse-book"]) == 0

    (written,) = (home / "bench").glob("night-*.json")
    record = json.loads(written.read_text())
    assert set(record) == {"measured_at", "machine", "workloads"}
    (name, workload), = record["workloads"].items()
    assert name == "2000x40"
    assert {"accounts", "history_days", "total_s", "kernels_s", "peak_rss_mb",
            "stages"} <= set(workload)
    assert (workload["accounts"], workload["history_days"]) == (2000, 40)
    for stage in (*REQUIRED_STAGES, "startup"):
        assert workload["stages"][stage] > 0, stage
    assert sum(workload["stages"].values()) <= workload["total_s"] + 0.01
    assert 0 < workload["kernels_s"] < workload["total_s"]
    assert workload["peak_rss_mb"] > 100
    # the peak per step is sampled from the process tree: every asset of the night has one
    step_peaks = workload["step_peak_rss_mb"]
    assert {"account_features", "delinquency_model", "letter_batches"} <= set(step_peaks)
    assert 100 < max(step_peaks.values()) <= workload["peak_rss_mb"]
    for kernel in bench_night.KERNEL_OF.values():
        assert kernel in workload["kernels"]

    # the night really ran: its landing file was loaded and its letters and report written
    night_home = home / "books" / name
    night = bench_night.NIGHT.isoformat()
    assert (night_home / "out" / "reports" / night).is_dir()
    assert (night_home / "out" / "letters" / night / "manifest.csv").exists()
    printed = capsys.readouterr().out
    assert "pipeline / kernels" in printed and "letters" in printed
    assert "peak RSS by step" in printed
    assert workload["setup"]["account_features_nights"] > 0
    # what came back for last night's contacts is loaded and applied, and timed on its own
    outcomes = (night_home / "landing" / "contact_outcomes" / f"{night}.csv").read_text()
    assert len(outcomes.splitlines()) > 1
    assert workload["stages"]["collections loop"] > 0

    # a book whose night has run would time a rerun: reusing it again is refused
    with pytest.raises(ValueError, match="already run"):
        bench_night.main([*tiny, "--reuse-book"])

    # figures only: no customer's personal data in the record or the table
    customers = (night_home / "landing" / "customers" / f"{night}.csv").read_text().splitlines()
    header = customers[0].split(",")
    for line in customers[1:]:
        row = dict(zip(header, line.split(","), strict=True))
        for column in ("full_name", "mobile_phone", "email"):
            assert row[column] not in written.read_text()
            assert row[column] not in printed


def test_the_sampled_peak_counts_child_processes():
    """Print PDFs render in worker processes: a peak that missed them would flatter the night."""
    import os
    import subprocess
    import sys
    import time

    alone = bench_night._tree_rss_mb(os.getpid())
    child = subprocess.Popen([sys.executable, "-c",
                              ("import sys, time; block = bytearray(300 * 2**20); "
                               "print('ready', flush=True); time.sleep(30)")],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        with bench_night.RssSampler(every_s=0.05) as sampler:
            time.sleep(0.3)
        assert sampler.peak() - alone > 250
        last_at, last_rss = sampler.samples[-1]
        assert sampler.peak_between(last_at + 1, last_at + 2) == round(last_rss, 1)
    finally:
        child.kill()
        child.wait()
    assert bench_night.RssSampler().peak_between(0, 1) is None


def test_a_crashed_book_setup_continues_from_its_last_finished_step(home, monkeypatch):
    """A W10M setup takes two hours: killed in its tiers step, it must not start again."""
    import duckdb

    from pipelines.lib.collections import tiering

    book = (home / "books" / "crash").resolve()

    def crash(*args, **kwargs):
        raise MemoryError("killed while building tiers")

    monkeypatch.setattr(tiering, "build_tiers", crash)
    with pytest.raises(MemoryError):
        bench_night.build(book, 500, 30)
    progress = json.loads((book / bench_night.BOOK_PROGRESS).read_text())
    assert progress["done"] == ["history", "account_features", "feature_state",
                                "report_history", "champion_seconds"]
    assert not (book / bench_night.BOOK_MARKER).exists()
    with duckdb.connect(str(book / "warehouse.duckdb")) as conn:
        snapshots_before = conn.execute("select count(*) from account_snapshots").fetchone()

    monkeypatch.undo()
    built = bench_night.build(book, 500, 30)
    assert (book / bench_night.BOOK_MARKER).exists()
    assert not (book / bench_night.BOOK_PROGRESS).exists()
    assert built["setup"]["history"] == progress["setup"]["history"]
    with duckdb.connect(str(book / "warehouse.duckdb")) as conn:
        # the history was not inserted a second time, and the steps after the crash ran
        assert conn.execute("select count(*) from account_snapshots").fetchone() == snapshots_before
        assert conn.execute("select count(*) from collection_tiers").fetchone()[0] > 0
    assert bench_night.built_book(book, 500, 30)["accounts"] == 500
