"""Customer shards at ingest: each shard loads exactly its customers' rows, and the shards
together load and quarantine exactly what the whole book does, row for row."""

from collections import Counter

import duckdb
import pytest

from pipelines.lib.ingest.load import ingest_night
from pipelines.lib.shards import Shard, shard_labels, shard_of
from pipelines.lib.warehouse import load_macros
from tests.conftest import NIGHT, customer_row, snapshot_row, write_night

SHARDS = 3


@pytest.mark.parametrize(("customer_id", "count", "expected"), [
    # md5("C000123") = 38aa330f25071563a114cc8b21662822; 0x38aa330f = 950678287
    ("C000123", 8, 950678287 % 8), ("C000123", 64, 15), ("C000123", 1, 0),
    # md5 of the UTF-8 bytes of 欧阳 starts f70818a9 = 4144503977
    ("欧阳", 8, 4144503977 % 8),
    (None, 8, 0),
])
def test_shard_of_is_the_first_md5_digits_mod_the_count(customer_id, count, expected):
    assert shard_of(customer_id, count) == expected
    conn = duckdb.connect()
    load_macros(conn)
    ((in_sql,),) = conn.execute("select shard_of($id, $n)", {"id": customer_id, "n": count}).fetchall()
    assert in_sql == expected


def test_sql_and_python_agree_on_every_id():
    ids = [f"CU{i:07d}" for i in range(2000)] + ["客户-12", " x", "Ö", "1" * 40]
    conn = duckdb.connect()
    load_macros(conn)
    rows = conn.execute("select id, shard_of(id, 64) from unnest($ids) t(id)", {"ids": ids}).fetchall()
    assert {i: s for i, s in rows} == {i: shard_of(i, 64) for i in ids}
    spread = Counter(shard_of(i, 8) for i in ids[:2000])
    assert len(spread) == 8 and min(spread.values()) > 2000 / 8 * 0.8


def test_shard_labels_sort_as_numbers():
    assert shard_labels(12)[:3] == ["00", "01", "02"] and shard_labels(1) == ["0"]
    with pytest.raises(ValueError):
        Shard(3, 3)


def _rows(conn, sql):
    return sorted(conn.execute(sql).fetchall(), key=repr)


def test_shards_together_load_what_the_whole_book_loads(home):
    snapshots = [snapshot_row(number=i) for i in range(1, 31)]
    snapshots[4]["credit_limit"] = "-1"  # quarantined by its customer's shard
    snapshots[9]["customer_id"] = " "  # no customer: shard 0 quarantines it
    write_night(home, NIGHT, snapshots, [customer_row(i) for i in range(1, 31)])
    path = home / "landing" / "account_snapshots" / f"{NIGHT}.csv"
    path.write_text(path.read_text(encoding="utf-8") + "2026-05-03,AC99,CU99,too,few\n",
                    encoding="utf-8")  # a structural reject: no columns to route by

    def ingest(warehouse, shard):
        conn = duckdb.connect(str(warehouse))
        for feed in ("account_snapshots", "customers"):
            result = ingest_night(conn, feed, NIGHT, home / "landing", shard)
            assert result.reconciles
        return conn

    whole = ingest(home / "whole.duckdb", Shard(0, 1))
    parts = [ingest(home / f"shard{k}.duckdb", Shard(k, SHARDS)) for k in range(SHARDS)]

    columns = "snapshot_date, account_id, customer_id, balance, source_file, source_row"
    expected = _rows(whole, f"select {columns} from account_snapshots")
    assert len(expected) == 28
    together = []
    for index, conn in enumerate(parts):
        rows = conn.execute(f"select {columns}, shard from account_snapshots").fetchall()
        assert rows and all(shard == index and shard_of(row[2], SHARDS) == index
                            for *row, shard in rows)
        together += [tuple(row) for *row, _ in rows]
    assert sorted(together, key=repr) == expected
    assert {shard for (shard,) in whole.execute("select distinct shard from account_snapshots")
            .fetchall()} == {0}

    quarantine = "select row_number, column_name, rule from quarantine where feed = 'account_snapshots'"
    expected_quarantine = _rows(whole, quarantine)
    assert len(expected_quarantine) == 3
    shard_quarantine = [_rows(conn, quarantine) for conn in parts]
    assert sorted((row for rows in shard_quarantine for row in rows), key=repr) == expected_quarantine
    assert (10, "customer_id", "customer_id_required") in shard_quarantine[0]
    assert any(row[0] == 31 for row in shard_quarantine[0])

    log = "select rows_read, rows_loaded, rows_quarantined from ingest_log where feed = '{}'"
    for feed, rows in (("account_snapshots", 31), ("customers", 30)):
        per_shard = [conn.execute(log.format(feed)).fetchone() for conn in parts]
        assert [sum(column) for column in zip(*per_shard, strict=True)] == list(
            whole.execute(log.format(feed)).fetchone())
        assert sum(read for read, _, _ in per_shard) == rows
    customers = "select customer_id from customers_history"
    assert sorted((row for conn in parts for row in _rows(conn, customers)), key=repr) == _rows(
        whole, customers)


def test_a_warehouse_from_before_shards_gets_its_rows_shard_0(home):
    from pipelines.lib.ingest.contracts import load_contract
    from pipelines.lib.sql import render_sql

    contract = load_contract("account_snapshots")
    conn = duckdb.connect(str(home / "old.duckdb"))
    conn.execute(render_sql("ingest/create_feed_table", table="account_snapshots",
                            columns=contract.columns, file_date_column="snapshot_date", shard_by=None))
    conn.execute("insert into account_snapshots (snapshot_date, account_id, customer_id, "
                 "source_file, source_row) values ('2026-05-02', 'AC1', 'CU0000001', 'old.csv', 1)")
    write_night(home, NIGHT, [snapshot_row(number=i) for i in range(1, 4)])
    ingest_night(conn, "account_snapshots", NIGHT, home / "landing", Shard(0, 1))
    assert conn.execute("select shard, count(*) from account_snapshots group by all").fetchall() \
        == [(0, 4)]
    with pytest.raises(RuntimeError, match="built before the book was split"):
        other = duckdb.connect(str(home / "old2.duckdb"))
        other.execute(render_sql("ingest/create_feed_table", table="account_snapshots",
                                 columns=contract.columns, file_date_column="snapshot_date", shard_by=None))
        ingest_night(other, "account_snapshots", NIGHT, home / "landing", Shard(1, 2))
