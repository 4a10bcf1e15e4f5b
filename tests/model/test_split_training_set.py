"""The retrain of a book split into customer shards reads every shard's training rows.

The model book (3,000 accounts x 120 nights, tests/model/conftest.py) is cut by customer into
four shards, each shard's account_features and account_snapshots published to the exchange as a
shard's runs publish them (pipelines/lib/exchange.py); a night-level connection that holds none
of those tables reads them back as the split book's retrain does. Its matured training set must
be the one warehouse's, row for row, with rows of every shard in it, and the model trained on it
the same bytes.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from models.dataset import split_windows
from models.train import train_model
from pipelines.lib.exchange import publish, read_shards
from pipelines.lib.model.dataset import matured_labels
from pipelines.lib.shards import Shard, shard_of
from tests.model.conftest import CONFIG, END

SHARDS = 4
PUBLISHED = ("account_features", "account_snapshots")


@pytest.fixture(scope="module")
def split_book(book, tmp_path_factory):
    """A night-level connection over the book published by four shards."""
    home = tmp_path_factory.mktemp("split_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OVERDUE_HOME", str(home))
        customers = book.conn.execute(
            "select distinct customer_id from account_snapshots").fetchall()
        owner = pd.DataFrame({"customer_id": [c for (c,) in customers],
                              "owner": [shard_of(c, SHARDS) for (c,) in customers]})
        nights = [n for (n,) in book.conn.execute(
            "select distinct snapshot_date from account_snapshots order by 1").fetchall()]
        whole = {table: book.conn.sql(f"select * from {table}").to_arrow_table()
                 for table in PUBLISHED}
        for index in range(SHARDS):
            with duckdb.connect() as shard_conn:
                shard_conn.register("owners", owner)
                for table in PUBLISHED:
                    shard_conn.register("rows", whole[table])
                    shard_conn.execute(
                        f"create table {table} as select rows.* from rows join owners using "
                        f"(customer_id) where owners.owner = {index}")
                    shard_conn.unregister("rows")
                    assert publish(shard_conn, Shard(index, SHARDS), table, nights) == len(nights)
        # the landed files' log stays the book's own (the model book loaded them whole)
        conn = duckdb.connect()
        conn.register("landed", book.conn.sql("select * from ingest_log").to_arrow_table())
        conn.execute("create table ingest_log as select * from landed")
        made = read_shards(conn, SHARDS)
        assert set(PUBLISHED) <= set(made)
        yield conn, owner
        conn.close()


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return (frame.drop(columns=["shard"], errors="ignore")
            .sort_values(["snapshot_date", "account_id"], ignore_index=True))


def test_the_training_set_is_every_shards_rows_and_the_one_warehouses(split_book, labelled):
    conn, owner = split_book
    split = matured_labels(conn, END, CONFIG)
    one = _sorted(labelled)
    assert len(one) > 10_000
    assert set(owner.set_index("customer_id").loc[split["customer_id"].unique(), "owner"]) \
        == set(range(SHARDS))
    pd.testing.assert_frame_equal(_sorted(split), one)
    assert split.attrs["latest_matured_night"] == labelled.attrs["latest_matured_night"]
    assert split.attrs["first_snapshot"] == labelled.attrs["first_snapshot"]


def test_the_model_trained_on_it_is_the_same_bytes(split_book, model):
    conn, _ = split_book
    split = matured_labels(conn, END, CONFIG)
    train, validation, _ = split_windows(split, CONFIG)
    again = train_model(train, validation, CONFIG, first_snapshot=split.attrs["first_snapshot"])
    assert again.model_bytes("json") == model.model_bytes("json")
    assert again.best_iteration == model.best_iteration
