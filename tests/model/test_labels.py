"""Labels: only matured nights, read from nothing after as_of, and the same answer as by hand."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from models.buckets import bucket_index
from models.dataset import coverage_of, observation_nights
from pipelines.lib.model.dataset import load_model_macros, matured_labels
from tests.model.conftest import CONFIG, END
from tooling.simulator import one_month_later


def test_months_later_matches_the_simulators_one_month_later(book):
    load_model_macros(book.conn)
    days = [date(2023, 12, 1) + timedelta(days=n) for n in range(800)]
    got = book.conn.execute(
        "select months_later(cast(unnest($days) as date), 1)", {"days": days}).fetchall()
    assert [row[0] for row in got] == [one_month_later(day) for day in days]


@pytest.mark.parametrize(("night", "two_months_later"), [
    (date(2024, 12, 31), date(2025, 2, 28)),   # month end to month end
    (date(2024, 12, 30), date(2025, 2, 28)),   # clamped
    (date(2025, 1, 15), date(2025, 3, 15)),
])
def test_months_later_with_a_longer_horizon(book, night, two_months_later):
    load_model_macros(book.conn)
    assert book.conn.execute("select months_later(?, 2)", [night]).fetchone()[0] == two_months_later


def test_observation_nights_walk_back_weekly_from_the_latest():
    daily = [date(2025, 1, 1) + timedelta(days=n) for n in range(30)]
    assert observation_nights(daily, 7) == [date(2025, 1, d) for d in (2, 9, 16, 23, 30)]
    month_ends = [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)]
    assert observation_nights(month_ends, 7) == month_ends


def test_labels_only_for_matured_nights(labelled):
    nights = pd.to_datetime(labelled["snapshot_date"])
    label_dates = pd.to_datetime(labelled["label_date"])
    assert (label_dates <= pd.Timestamp(END)).all()
    assert nights.max().date() == date(2025, 5, 31)  # months_later(31 May) = 30 June = END
    assert (pd.to_datetime(labelled["label_snapshot_date"]) <= pd.Timestamp(END)).all()
    current = labelled["bucket"] == "M0"
    gaps = np.diff(np.sort(nights[current].unique())).astype("timedelta64[D]").astype(int)
    assert set(gaps) == {CONFIG.observation_every_days}
    gaps = np.diff(np.sort(nights[~current].unique())).astype("timedelta64[D]").astype(int)
    assert set(gaps) == {CONFIG.delinquent_observation_every_days}
    assert "WO" not in set(labelled["bucket"])


def test_weights_count_each_bucket_by_its_account_nights(book, labelled):
    """Delinquent rows come from every night, current ones from every 7th weighted for the
    nights between: the weighted rows of each side equal its account-nights on those nights,
    counted here straight from the snapshots and the labels' own rule (matured, present a
    month later)."""
    nights = sorted(pd.to_datetime(labelled["snapshot_date"]).dt.date.unique())
    counted = book.conn.execute("""
        select s.days_past_due = 0 as current, count(*) as account_nights
        from account_snapshots as s
        where s.snapshot_date = any(cast($nights as date[]))
          and s.status not in ('charged_off')
          and s.days_past_due <= 180
          and exists (
              select 1 from account_snapshots as later
              where later.account_id = s.account_id
                and later.snapshot_date between months_later(s.snapshot_date, 1) - 3
                                            and months_later(s.snapshot_date, 1))
        group by all
    """, {"nights": nights}).df().set_index("current")["account_nights"]
    weighted = labelled.groupby(labelled["bucket"] == "M0")["weight"].sum()
    assert weighted[False] == pytest.approx(counted[False], rel=1e-9)
    assert weighted[True] == pytest.approx(counted[True], rel=0.03)  # current rows are sampled


def test_labels_agree_with_a_hand_computation_from_snapshots(book, labelled):
    night = pd.Timestamp(labelled["snapshot_date"].iloc[-1]).date()
    later = one_month_later(night)
    snapshots = book.conn.execute(
        "select account_id, days_past_due, status from account_snapshots where snapshot_date = ?",
        [later]).df()
    bucket_later = dict(zip(snapshots["account_id"],
                            bucket_index(snapshots["days_past_due"].to_numpy(),
                                         (snapshots["status"] == "charged_off").to_numpy())))
    rows = labelled[pd.to_datetime(labelled["snapshot_date"]).dt.date == night]
    early = ~rows["account_id"].isin(bucket_later.keys())  # gone on the date, seen up to 3 days before
    assert (pd.to_datetime(rows.loc[early, "label_snapshot_date"]) < pd.Timestamp(later)).all()
    rows = rows[~early]
    rank_now = bucket_index(rows["days_past_due"].to_numpy(), (rows["status"] == "charged_off")
                            .to_numpy())
    expected = [int(bucket_later[a] > r) for a, r in zip(rows["account_id"], rank_now)]
    assert rows["label"].tolist() == expected
    assert rows["label"].sum() > 0


def test_coverage_counts_every_account(labelled):
    coverage = coverage_of(labelled)
    assert coverage
    for row in coverage:
        assert row["accounts"] == row["excluded_bucket"] + row["absent_at_label_date"] + row[
            "labelled"]
    assert sum(row["absent_at_label_date"] for row in coverage) > 0  # closed cards drop out


def test_sampling_keeps_delinquent_rows_and_weights_back_the_current_ones(labelled):
    current = labelled["bucket"] == "M0"
    assert (labelled.loc[~current, "weight"] == 1).all()
    assert (labelled.loc[current, "weight"] > 1).all()
    coverage = coverage_of(labelled)
    every_bucket = {pd.Timestamp(row["snapshot_date"]) for row in coverage if row["all_buckets"]}
    on_those = pd.to_datetime(labelled["snapshot_date"]).isin(every_bucket)
    assert set(pd.to_datetime(labelled.loc[current, "snapshot_date"])) <= every_bucket
    share = current[on_those].mean()  # the share is of the nights every bucket is observed on
    assert share == pytest.approx(CONFIG.sample_current_share, abs=0.02)
    current_labelled = sum(row["labelled"] for row in coverage if row["all_buckets"]) - (
        ~current & on_those).sum()
    night_weight = len(coverage) / len(every_bucket)
    assert labelled.loc[current, "weight"].sum() == pytest.approx(
        current_labelled * night_weight, rel=0.03)


def test_a_row_cap_thins_every_stratum_alike_and_weights_still_give_the_book(book, labelled):
    """A book ten times larger trains on the same number of rows: the cap keeps the current
    share and the weighted totals, and only drops rows the uncapped sample had."""
    cap = len(labelled) // 3
    capped = matured_labels(book.conn, END, dataclasses.replace(CONFIG, max_training_rows=cap))
    assert len(capped) == pytest.approx(cap, rel=0.05)
    assert (capped["bucket"] == "M0").mean() == pytest.approx(
        (labelled["bucket"] == "M0").mean(), abs=0.02)
    assert capped["weight"].sum() == pytest.approx(labelled["weight"].sum(), rel=0.05)
    for bucket in ("M0", "M1"):
        assert capped.loc[capped["bucket"] == bucket, "label"].mean() == pytest.approx(
            labelled.loc[labelled["bucket"] == bucket, "label"].mean(), abs=0.05)
    keys = ["snapshot_date", "account_id"]
    assert len(capped.merge(labelled[keys], on=keys)) == len(capped)
    uncapped = matured_labels(book.conn, END, dataclasses.replace(CONFIG, max_training_rows=0))
    pd.testing.assert_frame_equal(uncapped, labelled)


def test_no_unmatured_label_is_used(book):
    """Labels as of a date do not change when everything after that date changes."""
    as_of = END - timedelta(days=20)
    before = matured_labels(book.conn, as_of, CONFIG)
    assert pd.to_datetime(before["label_date"]).max() <= pd.Timestamp(as_of)
    book.conn.execute("begin transaction")
    try:
        book.conn.execute(
            "update account_snapshots set days_past_due = days_past_due + 200, "
            "status = 'charged_off' where snapshot_date > ?", [as_of])
        book.conn.execute("update account_features set bucket = 'M6' where snapshot_date > ?",
                          [as_of])
        after = matured_labels(book.conn, as_of, CONFIG)
    finally:
        book.conn.execute("rollback")
    pd.testing.assert_frame_equal(before, after)


def test_split_is_out_of_time(split):
    train, validation = split
    assert pd.to_datetime(train["snapshot_date"]).max() < pd.to_datetime(
        validation["snapshot_date"]).min()
    span = (pd.to_datetime(validation["snapshot_date"]).max()
            - pd.to_datetime(validation["snapshot_date"]).min()).days
    assert span < CONFIG.validation_days
    assert len(train) > len(validation) > 0
