"""The label pass kept between nights (observation_labels): kept labels give the training set a
fresh pass gives, are not computed twice, and a re-landed snapshot night recomputes exactly the
nights whose labels read it, with the re-landed values."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import timedelta

import duckdb
import pandas as pd
import pytest

from pipelines.lib.ingest.contracts import load_contract
from pipelines.lib.ingest.load import ingest_file
from pipelines.lib.model.dataset import called_macros, matured_labels
from pipelines.lib.sql import render_sql
from tests.model.conftest import CONFIG, END


def _night_records(conn) -> pd.DataFrame:
    return conn.execute(
        "select snapshot_date, label_date, accounts, built_at from observation_label_nights "
        "order by snapshot_date").df()


@pytest.fixture
def warehouse_copy(book, tmp_path):
    """A copy of the session's warehouse (labels kept for END already), to land files into."""
    book.conn.execute("checkpoint")
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(book.home / "warehouse.duckdb", path)
    conn = duckdb.connect(str(path))
    yield conn
    conn.close()


def test_kept_labels_give_what_a_fresh_pass_gives(book, labelled, warehouse_copy):
    """As of three days earlier the weekly nights are others, but every one was kept already
    (delinquent rows are observed every night, so every matured night's pass is kept): none is
    computed, and the training set equals the one computed with nothing kept."""
    as_of = END - timedelta(days=3)
    records = _night_records(warehouse_copy)
    assert len(records) > 60, "the session's labels were kept, every matured night"
    mixed = matured_labels(warehouse_copy, as_of, CONFIG)
    pd.testing.assert_frame_equal(_night_records(warehouse_copy), records)

    warehouse_copy.execute("delete from observation_labels")
    warehouse_copy.execute("delete from observation_label_nights")
    fresh = matured_labels(warehouse_copy, as_of, CONFIG)
    pd.testing.assert_frame_equal(fresh, mixed)
    pd.testing.assert_frame_equal(matured_labels(warehouse_copy, END, CONFIG), labelled)


def test_another_seed_or_horizon_recomputes_the_nights(warehouse_copy):
    before = _night_records(warehouse_copy)
    reseeded = dataclasses.replace(CONFIG, seed=CONFIG.seed + 1)
    matured_labels(warehouse_copy, END, reseeded)
    after = _night_records(warehouse_copy)
    shared = before.merge(after, on="snapshot_date", suffixes=("_before", "_after"))
    assert len(shared) > 0
    assert (shared["built_at_after"] > shared["built_at_before"]).all()


def test_a_relanded_label_night_recomputes_the_nights_that_read_it(book, labelled,
                                                                     warehouse_copy, tmp_path):
    """END's snapshot file landed again with 40 accounts 95 days past due: the observation nights
    whose label date is END (30 and 31 May) are computed again, no other, and those accounts,
    current on 31 May, now roll forward (label 1) on it; every other row is unchanged."""
    last_night = pd.Timestamp(labelled["snapshot_date"].max()).date()
    assert last_night == END - timedelta(days=30)
    on_last = labelled[pd.to_datetime(labelled["snapshot_date"]).dt.date == last_night]
    stayed_current = on_last[(on_last["bucket"] == "M0") & (on_last["bucket_later"] == "M0")]
    source = book.home / "landing" / "account_snapshots" / f"{END}.csv"
    landed = pd.read_csv(source, dtype=str, keep_default_na=False)
    owing = set(landed.loc[pd.to_numeric(landed["balance"]) > 0, "account_id"])
    chosen = sorted(set(stayed_current["account_id"]) & owing)[:40]
    assert len(chosen) == 40
    late = landed["account_id"].isin(chosen)
    landed.loc[late, "days_past_due"] = "95"
    landed.loc[late, "past_due_amount"] = landed.loc[late, "balance"]  # 95 days owe something
    relanded = tmp_path / "landing" / source.name
    relanded.parent.mkdir(parents=True)
    landed.to_csv(relanded, index=False)
    before = _night_records(warehouse_copy).set_index("snapshot_date")["built_at"]
    assert ingest_file(warehouse_copy, load_contract("account_snapshots"),
                       relanded).rows_quarantined == 0

    after_relanding = matured_labels(warehouse_copy, END, CONFIG)
    after = _night_records(warehouse_copy).set_index("snapshot_date")
    recomputed = {pd.Timestamp(n).date() for n in after.index
                  if n not in before.index or after.loc[n, "built_at"] > before[n]}
    reading_end = {pd.Timestamp(n).date() for n in after.index
                   if pd.Timestamp(after.loc[n, "label_date"]).date() == END}
    assert recomputed == reading_end
    assert reading_end == {END - timedelta(days=31), END - timedelta(days=30)}

    keys = ["snapshot_date", "account_id"]
    joined = labelled.merge(after_relanding, on=keys, suffixes=("", "_now"))
    assert len(joined) == len(labelled) == len(after_relanding)
    changed = (pd.to_datetime(joined["snapshot_date"]).dt.date.isin(reading_end)
               & joined["account_id"].isin(chosen))
    assert joined.loc[changed, "bucket_later_now"].eq("M4").all()
    assert joined.loc[changed & (pd.to_datetime(joined["snapshot_date"]).dt.date == last_night),
                      "label_now"].eq(1).sum() == 40
    unchanged = joined[~changed]
    assert unchanged["label_now"].tolist() == unchanged["label"].tolist()
    assert unchanged["bucket_later_now"].tolist() == unchanged["bucket_later"].tolist()


def test_the_label_rule_is_the_pass_and_the_macros_it_calls():
    """A macro the label pass calls is part of its rule; one it does not call (a new feature's)
    is not, so adding it keeps every kept night."""
    called = called_macros(render_sql("model/insert_observation_labels"))
    assert {"delinquency_bucket", "months_later"} <= set(called)
    assert not {"utilisation", "five_class"} & set(called)
