"""The volume gates on real runs: a header-only, half-copied or doubled snapshot file stops the
night before features run; an operator's acceptance lets it through and is recorded."""

import contextlib
import io
from datetime import date, timedelta

import duckdb
import pytest

from pipelines.cli import main
from pipelines.lib.summary import warehouse_summary
from tests.conftest import SNAPSHOT_COLUMNS, snapshot_row, use_home, write_csv, write_night

N1 = date(2026, 5, 1)
NIGHTS = [N1 + timedelta(days=i) for i in range(5)]


def _book(night, count):
    return [snapshot_row(night, number) for number in range(1, count + 1)]


def _overdue(*argv) -> tuple[int, str]:
    """Exit code and the command's own stderr line (logging shares stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(list(argv))
    lines = [line for line in err.getvalue().splitlines() if line.startswith("overdue ")]
    return code, lines[-1] if lines else ""


GROUPS = ("--groups", "ingest", "features")


@pytest.fixture(scope="module")
def nightly(tmp_path_factory):
    """10 then 12 accounts (a backfill), the 12 rerun; a header-only file (stopped, then
    accepted); a backfill of a cut copy (6 of 12) and the file twice over (every key a
    duplicate)."""
    home = tmp_path_factory.mktemp("volume")
    n1, n2, n3, n4, n5 = NIGHTS
    outcomes = {}
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, home)
        patch.setenv("OVERDUE_VOLUME_MIN_ACCOUNTS", "10")
        write_night(home, n1, _book(n1, 10))
        write_night(home, n2, _book(n2, 12))
        write_night(home, n3, _book(n3, 12))
        write_csv(home / "landing" / "account_snapshots" / f"{n3}.csv", [], SNAPSHOT_COLUMNS)
        write_night(home, n4, _book(n4, 6))
        write_night(home, n5, _book(n5, 12) + _book(n5, 12))
        outcomes["n1..n2"] = _overdue("backfill", "--start", str(n1), "--end", str(n2), *GROUPS)
        outcomes["n2 again"] = _overdue("run", "--date", str(n2), *GROUPS)
        outcomes["n3"] = _overdue("run", "--date", str(n3), *GROUPS)
        outcomes["n3 accepted"] = _overdue(
            "run", "--date", str(n3), *GROUPS, "--accept-volume-change", "--reason",
            "portfolio sale of every account", "--by", "ops-lead")
        outcomes["n4..n5"] = _overdue("backfill", "--start", str(n4), "--end", str(n5), *GROUPS)
        outcomes["summary"] = warehouse_summary(home / "warehouse.duckdb")
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        outcomes["features"] = dict(conn.execute(
            "select snapshot_date, count(*) from account_features group by all").fetchall())
        outcomes["acceptances"] = conn.execute(
            "select snapshot_date, gate, accepted_by, reason, rows_loaded, previous_night,"
            " previous_rows, run_id from volume_acceptances order by gate").fetchall()
        outcomes["checks"] = {(night, gate): (outcome, change) for night, gate, outcome, change in
                              conn.execute("select snapshot_date, gate, outcome, change_pct"
                                           " from volume_checks where feed = 'account_snapshots'").fetchall()}
    return outcomes


def test_a_normal_book_passes_and_a_rerun_compares_with_the_night_before(nightly):
    n1, n2 = NIGHTS[:2]
    assert nightly["n1..n2"] == (0, "")
    assert nightly["n2 again"] == (0, "")
    assert nightly["checks"][(n1, "book_volume")] == ("passed", None)  # the first night ever
    # the rerun of n2 is judged against n1 (10 -> 12), not against its own first load (12)
    assert nightly["checks"][(n2, "book_volume")] == ("passed", 20.0)
    assert nightly["features"][n1] == 10 and nightly["features"][n2] == 12


def test_header_only_snapshot_file_stops_the_night_naming_the_figures(nightly):
    code, line = nightly["n3"]
    assert code == 1
    assert line.startswith(f"overdue run: night(s) {NIGHTS[2]}..{NIGHTS[2]} stopped by check "
                           "account_snapshots_book_volume: ")
    assert f"{NIGHTS[2]}: 0 accounts loaded against 12 on {NIGHTS[1]} (-100.0%" in line


def test_an_accepted_change_passes_and_is_recorded_with_who_why_and_the_run(nightly):
    assert nightly["n3 accepted"] == (0, "")
    [(night, gate, by, reason, loaded, previous, previous_rows, run_id)] = nightly["acceptances"]
    assert (night, gate, by, reason, loaded, previous, previous_rows) == (
        NIGHTS[2], "book_volume", "ops-lead", "portfolio sale of every account", 0, NIGHTS[1], 12)
    assert len(run_id) == 36
    assert nightly["checks"][(NIGHTS[2], "book_volume")] == ("accepted", -100.0)


def test_a_backfill_judges_each_night_and_stops_before_features(nightly):
    n4, n5 = NIGHTS[3:]
    code, line = nightly["n4..n5"]
    assert code == 1
    # n3 loaded none (accepted): the cut copy is compared with n2's 12 accounts
    assert f"{n4}: 6 accounts loaded against 12 on {NIGHTS[1]} (-50.0%, band -20%..+30%)" in line
    assert f"{n5}: 24 of 24 rows quarantined (100%, limit 50%), 0 loaded; top rules:" in line
    assert nightly["checks"][(n4, "book_volume")] == ("failed", -50.0)
    assert nightly["checks"][(n5, "book_volume")][0] == "failed"
    assert nightly["checks"][(n5, "quarantine_share")][0] == "failed"
    assert n4 not in nightly["features"] and n5 not in nightly["features"]


def test_summary_shows_each_nights_accounts_change_and_gate(nightly):
    by_night = {line.split()[0]: line for line in nightly["summary"].splitlines()
                if line.startswith("  2026-05-0") and " gate " in line}
    assert "   10 accounts  no previous night  gate passed" in by_night["2026-05-01"]
    assert "12 accounts  +20.0% against 10 on 2026-05-01  gate passed" in by_night["2026-05-02"]
    assert "0 accounts  -100.0% against 12 on 2026-05-02  gate accepted by ops-lead" in \
        by_night["2026-05-03"]
    assert "6 accounts  -50.0% against 12 on 2026-05-02  gate failed" in by_night["2026-05-04"]


def test_accepting_without_a_reason_is_refused():
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exited:
        main(["run", "--date", str(N1), "--accept-volume-change"])
    assert exited.value.code == 2
    assert "--accept-volume-change needs --reason" in err.getvalue()


def test_a_small_book_is_judged_on_zero_only(tmp_path, monkeypatch):
    """Below OVERDUE_VOLUME_MIN_ACCOUNTS the previous night gives no band (2 -> 5 accounts is
    +150% and passes); zero still stops it."""
    from pipelines.lib.ingest.load import ensure_warehouse
    from pipelines.lib.ingest.volume import book_volume_gate

    monkeypatch.delenv("OVERDUE_VOLUME_MIN_ACCOUNTS", raising=False)
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_warehouse(conn)
    for night, loaded in ((NIGHTS[0], 2), (NIGHTS[1], 5), (NIGHTS[2], 0)):
        conn.execute("insert into ingest_log values ('account_snapshots', ?, 'f', 's', 'loaded',"
                     " ?, ?, 0, '1', '', now(), 0)", [night, loaded, loaded])
    assert book_volume_gate(conn, "account_snapshots", NIGHTS[1:2]).offending == []
    [zero] = book_volume_gate(conn, "account_snapshots", NIGHTS[2:3]).offending
    assert zero["detail"] == f"{NIGHTS[2]}: 0 accounts loaded against 5 on {NIGHTS[1]} (-100.0%," \
        " band -20%..+30%)"


def test_a_small_change_file_is_not_judged_on_its_share(tmp_path):
    """One bad row of a one-row customers change file is that row quarantined; a 30-row file
    with 20 quarantined is a broken night."""
    import duckdb

    from pipelines.lib.ingest.load import ensure_warehouse
    from pipelines.lib.ingest.volume import quarantine_share_gate

    conn = duckdb.connect()
    ensure_warehouse(conn)
    small, large = date(2026, 5, 2), date(2026, 5, 3)
    for night, read, quarantined in ((small, 1, 1), (large, 30, 20)):
        conn.execute(
            "insert into ingest_log values ('customers', ?, 'f.csv', 'x', 'loaded', ?, ?, ?, "
            "'1', '', now(), 0)", [night, read, read - quarantined, quarantined])
        for row in range(1, quarantined + 1):
            conn.execute("insert into quarantine values ('customers', ?, 'f.csv', 'x', ?, "
                         "'email', 'email_pattern', 'm', null)", [night, row])
    gate = quarantine_share_gate(conn, "customers", [small, large])
    assert [row["night"] for row in gate.offending] == [large]
    assert "20 of 30 rows quarantined" in gate.offending[0]["detail"]
