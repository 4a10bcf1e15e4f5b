"""One simulated warehouse for the model tests, built the way the pipeline builds it.

3,000 accounts x 120 nights: landing files from the simulator, loaded through the contracts
(account_snapshots and contact_events), account_features rebuilt for every night. Built once per
session (about half a minute) and shared; tests that change data do so inside a transaction they
roll back.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from models.config import ModelConfig
from models.dataset import split_windows
from models.train import train_model
from pipelines.lib.features.nightly_tables import rebuild_nights
from pipelines.lib.ingest.contracts import load_contract
from pipelines.lib.ingest.load import ingest_file
from pipelines.lib.model.dataset import matured_labels
from tooling.simulator import simulate

END = date(2025, 6, 30)
ACCOUNTS = 3_000
DAYS = 120

# Small book: every matured weekly night (about 90 days of them) at least 21 days after the first
# snapshot (the default 90 would leave a 120-night book no training night), a 21-day validation
# window then a 14-day monitoring window, current rows sampled to 90 % of the rows, and a faster
# learning rate than the default. One
# XGBoost thread: on a shared 2-core machine two OpenMP threads spin-wait for each other whenever
# another process holds a core, which made single trainings take 10-30 s instead of 0.5 s.
CONFIG = ModelConfig(training_window_days=120, validation_days=21, monitoring_days=14,
                     required_history_days=21, sample_current_share=0.9, learning_rate=0.1,
                     nthread=1)


@dataclasses.dataclass(frozen=True)
class Book:
    conn: duckdb.DuckDBPyConnection
    home: Path
    start: date
    end: date

    def truth(self, nights) -> pd.DataFrame:
        """The simulator's true roll-forward probability on the given nights."""
        frames = [pd.read_parquet(self.home / "truth" / f"{pd.Timestamp(n).date()}.parquet")
                  for n in sorted(set(nights))]
        truth = pd.concat(frames, ignore_index=True)
        truth["snapshot_date"] = pd.to_datetime(truth["snapshot_date"])
        return truth


@pytest.fixture(scope="session")
def book(tmp_path_factory) -> Book:
    home = tmp_path_factory.mktemp("model_book")
    summary = simulate(home, accounts=ACCOUNTS, days=DAYS, end_date=END, seed=23)
    conn = duckdb.connect(str(home / "warehouse.duckdb"))
    for feed in ("account_snapshots", "contact_events"):
        contract = load_contract(feed)
        for path in sorted((home / "landing" / feed).glob("*.csv")):
            ingest_file(conn, contract, path)
    rebuild_nights(conn, "account_features", "features/account_features", summary.start_date,
                   summary.end_date)
    yield Book(conn, home, summary.start_date, summary.end_date)
    conn.close()


@pytest.fixture(scope="session")
def labelled(book):
    return matured_labels(book.conn, END, CONFIG)


@pytest.fixture(scope="session")
def windows(labelled):
    """(train, validation, monitoring)."""
    return split_windows(labelled, CONFIG)


@pytest.fixture(scope="session")
def split(windows):
    return windows[:2]


@pytest.fixture(scope="session")
def model(split, labelled):
    train, validation = split
    return train_model(train, validation, CONFIG, first_snapshot=labelled.attrs["first_snapshot"])
