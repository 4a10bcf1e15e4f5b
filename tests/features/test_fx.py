"""Exchange rates of a night (pipelines/lib/fx.py) on rates landed by hand, through real ingest."""

from datetime import date

import duckdb
import pytest

from pipelines.lib.fx import night_rates
from pipelines.lib.ingest.contracts import load_contract
from pipelines.lib.ingest.load import ensure_warehouse, ingest_file
from tests.conftest import write_csv
from tooling.simulator.fx import write_fx_rates

FRIDAY, SATURDAY, SUNDAY, MONDAY = (date(2026, 11, d) for d in (27, 28, 29, 30))


def land(conn, home, night, rows):
    path = write_csv(home / "landing" / "fx_rates" / f"{night}.csv",
                     [{"rate_date": r[0], "from_currency": r[1], "to_currency": r[2],
                       "rate": r[3]} for r in rows])
    return ingest_file(conn, load_contract("fx_rates"), path)


@pytest.fixture
def conn():
    connection = duckdb.connect()
    ensure_warehouse(connection)
    return connection


def test_no_fx_table_converts_only_the_reporting_currency():
    rates = night_rates(duckdb.connect(), MONDAY, "CNY")
    assert rates.rate("CNY") == 1.0 and rates.rate("USD") is None
    assert rates.missing(["CNY", "USD"]) == ["USD"]
    assert rates.convert(100, "CNY") == 100.0 and rates.convert(100, "USD") is None


def test_rates_look_back_seven_days_and_invert(conn, tmp_path):
    land(conn, tmp_path, FRIDAY, [(FRIDAY, "USD", "CNY", "7.2500"), (FRIDAY, "CNY", "HKD", "1.0800")])
    rates = night_rates(conn, SUNDAY, "CNY")  # nothing published on the weekend
    assert rates.rate("USD") == 7.25 and rates.rate_date("USD") == FRIDAY
    assert rates.rate("HKD") == pytest.approx(1 / 1.08)  # the inverse of CNY -> HKD
    assert rates.describe("USD") == "1 USD = 7.2500 CNY (2026-11-27)"
    assert rates.convert(200, "USD") == 1450.0
    assert night_rates(conn, date(2026, 12, 4), "CNY").rate_date("USD") == FRIDAY  # day 7
    assert night_rates(conn, date(2026, 12, 5), "CNY").rate("USD") is None  # day 8
    assert night_rates(conn, date(2026, 11, 26), "CNY").rate("USD") is None  # not yet landed
    in_usd = night_rates(conn, SUNDAY, "USD")
    assert in_usd.rate("CNY") == pytest.approx(1 / 7.25) and in_usd.rate("USD") == 1.0
    assert in_usd.missing(["CNY", "HKD"]) == ["HKD"]  # no USD pair for HKD


def test_latest_rate_wins_and_an_ambiguous_pair_is_not_used(conn, tmp_path):
    land(conn, tmp_path, FRIDAY, [(FRIDAY, "USD", "CNY", "7.25")])
    land(conn, tmp_path, MONDAY, [(MONDAY, "USD", "CNY", "7.30"), (MONDAY, "USD", "CNY", "7.31")])
    assert night_rates(conn, MONDAY, "CNY").rate_date("USD") == FRIDAY
    land(conn, tmp_path, MONDAY, [(MONDAY, "USD", "CNY", "7.30")])
    assert night_rates(conn, MONDAY, "CNY").rate("USD") == 7.30


def test_contract_quarantines_bad_rates(conn, tmp_path):
    result = land(conn, tmp_path, MONDAY, [
        (MONDAY, "USD", "CNY", "7.1234"), (MONDAY, "EUR", "CNY", "0"), (MONDAY, "GBP", "CNY", "-9"),
        (FRIDAY, "JPY", "CNY", "0.05"), (MONDAY, "XXX", "CNY", "1.0")])
    assert result.rows_loaded == 1
    rules = dict(conn.execute("select rule, count(*) from quarantine where feed = 'fx_rates' "
                              "group by rule").fetchall())
    assert rules == {"rate_pattern": 2, "rate_date_equals_file_date": 1,
                     "from_currency_valid_values": 1}


def test_simulator_file_loads_and_skips_weekends(conn, tmp_path):
    assert write_fx_rates(tmp_path, SATURDAY, 7.1, "csv") is None
    for file_format in ("csv", "parquet"):
        path = write_fx_rates(tmp_path / file_format, MONDAY, 7.12345, file_format)
        assert ingest_file(conn, load_contract("fx_rates"), path).rows_loaded == 1
    assert night_rates(conn, MONDAY, "CNY").describe("USD") == "1 USD = 7.1235 CNY (2026-11-30)"
