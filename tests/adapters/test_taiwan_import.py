"""The UCI Taiwan importer: six real nights in exactly the landing format, and the roll-rate answer.

Checks are made on the written files, against the raw PAY codes read here independently, so a
mistake in the importer's mapping cannot hide behind the same mistake in the test.
"""

import csv
import re
from datetime import date
from itertools import pairwise
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines.adapters import import_taiwan, pay_code_roll_rates
from pipelines.lib.ingest.contracts import load_contract
from pipelines.lib.ingest.load import ingest_file

SOURCE = Path(__file__).parents[1] / "data" / "uci_taiwan_default" / "UCI_Credit_Card.csv"
pytestmark = pytest.mark.skipif(not SOURCE.exists(), reason="UCI Taiwan file not present")

NIGHT_CODES = {  # snapshot date -> the PAY column of that month (there is no PAY_1)
    date(2005, 4, 30): "PAY_6", date(2005, 5, 31): "PAY_5", date(2005, 6, 30): "PAY_4",
    date(2005, 7, 31): "PAY_3", date(2005, 8, 31): "PAY_2", date(2005, 9, 30): "PAY_0",
}
SNAPSHOT_COLUMNS = [  # DOMAIN.md §7, in order
    "snapshot_date", "account_id", "customer_id", "product", "open_date", "status", "currency",
    "credit_limit", "balance", "amount_due", "past_due_amount", "days_past_due",
    "effective_interest_rate", "next_due_date", "payment_amount", "last_payment_date",
    # landing format 1.1 (optional; the Taiwan book has none of them)
    "past_due_principal", "past_due_interest", "past_due_penalty_interest", "past_due_fees",
    "contract_reference", "contract_date", "annual_interest_rate", "penalty_interest_rate",
    "statement_date", "statement_balance", "charge_off_date",
]
CUSTOMER_COLUMNS = [
    "customer_id", "full_name", "mobile_phone", "email", "postal_address", "city", "region",
    "postal_code", "country", "preferred_language", "timezone",
]
NOT_CARRIED = ("SEX", "EDUCATION", "MARRIAGE", "AGE", "default.payment.next.month")
MONEY = re.compile(r"^\d+\.\d{2}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
BUCKETS = ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "WO"]


def code_bucket(code: int) -> str:
    """Bucket straight from a PAY code: current for k <= 0, M1..M6 for 1..6, WO beyond 180 DPD."""
    return "M0" if code <= 0 else (f"M{code}" if code <= 6 else "WO")


def file_bucket(dpd: int, status: str) -> str:
    """Bucket from a landed row, DOMAIN §1 thresholds."""
    if status == "charged_off" or dpd > 180:
        return "WO"
    return "M0" if dpd == 0 else f"M{(dpd + 29) // 30}"


def read_text(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    home = tmp_path_factory.mktemp("taiwan_home")
    summary = import_taiwan(SOURCE, home)
    return home, summary


@pytest.fixture(scope="module")
def source() -> pd.DataFrame:
    return pd.read_csv(SOURCE)


def test_six_nights_with_exactly_the_landing_columns(landed):
    home, summary = landed
    assert summary.nights == tuple(NIGHT_CODES)
    assert summary.accounts == 30_000
    assert summary.snapshot_rows == 6 * 30_000 and summary.customer_rows == 30_000
    assert SNAPSHOT_COLUMNS == load_contract("account_snapshots").column_names
    assert CUSTOMER_COLUMNS == load_contract("customers").column_names
    for night in NIGHT_CODES:
        snapshots = home / "landing" / "account_snapshots" / f"{night}.csv"
        customers = home / "landing" / "customers" / f"{night}.csv"
        with snapshots.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == SNAPSHOT_COLUMNS
        assert len(rows) - 1 == 30_000
        assert all(len(r) == len(SNAPSHOT_COLUMNS) for r in rows)
        assert len({r[1] for r in rows[1:]}) == 30_000
        with customers.open(encoding="utf-8", newline="") as handle:
            people = list(csv.reader(handle))
        assert people[0] == CUSTOMER_COLUMNS
        assert len(people) - 1 == (30_000 if night == date(2005, 4, 30) else 0)
    files = sorted((home / "landing").rglob("*"))
    assert [p.name for p in files if p.is_file() and p.name.startswith(".")] == []  # no temp left
    assert len(summary.files) == 12


def test_no_protected_attribute_or_target_is_carried(landed):
    home, _ = landed
    for path in (home / "landing").rglob("*.csv"):
        header = path.read_text(encoding="utf-8").split("\n", 1)[0].lower().split(",")
        assert header in ([c.lower() for c in SNAPSHOT_COLUMNS], [c.lower() for c in CUSTOMER_COLUMNS])
        for name in NOT_CARRIED:  # not even renamed: no column that mentions one
            assert not [c for c in header if name.lower() in c.replace("language", "")], (path, name)
    customers = read_text(home / "landing" / "customers" / "2005-04-30.csv")
    assert customers["country"].eq("TW").all() and customers["timezone"].eq("Asia/Taipei").all()
    assert customers["preferred_language"].eq("en-US").all()
    for column in ("mobile_phone", "email", "postal_address", "city", "region", "postal_code"):
        assert customers[column].eq("").all()
    assert customers["full_name"].iloc[0] == "Taiwan customer 1"


def test_every_row_keeps_the_landing_rules_but_the_documented_quarantine(landed):
    home, summary = landed
    left_total = 0
    for night in NIGHT_CODES:
        rows = read_text(home / "landing" / "account_snapshots" / f"{night}.csv")
        assert rows["snapshot_date"].eq(night.isoformat()).all()
        assert rows["account_id"].str.fullmatch(r"TW\d{5}").all()
        assert rows["customer_id"].str.fullmatch(r"TWC\d{5}").all()
        assert (rows["account_id"].str[2:] == rows["customer_id"].str[3:]).all()
        assert rows["product"].eq("revolving").all() and rows["currency"].eq("TWD").all()
        assert rows["open_date"].str.fullmatch(ISO_DATE).all()
        assert (rows["open_date"] <= rows["snapshot_date"]).all()
        assert rows["status"].isin(["open", "charged_off"]).all()
        for column in ("credit_limit", "balance", "amount_due", "past_due_amount",
                       "payment_amount"):
            assert rows[column].str.fullmatch(MONEY).all(), column  # >= 0, 2 decimals, no 'e'
        assert rows["days_past_due"].str.fullmatch(r"\d+").all()
        assert rows["last_payment_date"].eq("").all()
        due = rows["next_due_date"]
        assert (due.eq("") | due.eq(f"{night.year}-{night.month + 1:02d}-25")).all()

        balance = rows["balance"].astype(float)
        past_due = rows["past_due_amount"].astype(float)
        dpd = rows["days_past_due"].astype(int)
        assert (past_due <= balance).all()
        assert (rows["amount_due"].astype(float) <= balance).all()
        assert (due.eq("") == balance.eq(0)).all()
        assert (rows["status"].eq("charged_off") == (dpd > 180)).all()
        breaks = (dpd == 0) != (past_due == 0)
        # the only rows breaking a rule: delinquent with nothing owed, left for quarantine
        assert (dpd[breaks] > 0).all() and (balance[breaks] == 0).all()
        assert int(breaks.sum()) == summary.delinquent_with_zero_balance_by_night[night]
        left_total += int(breaks.sum())
    assert left_total == summary.delinquent_with_zero_balance > 0


def test_buckets_per_night_equal_the_pay_codes(landed, source):
    home, _ = landed
    for night, code_column in NIGHT_CODES.items():
        rows = read_text(home / "landing" / "account_snapshots" / f"{night}.csv")
        from_file = pd.Series([file_bucket(int(d), s) for d, s in
                               zip(rows["days_past_due"], rows["status"])]).value_counts()
        from_codes = source[code_column].map(code_bucket).value_counts()
        assert from_file.sort_index().to_dict() == from_codes.sort_index().to_dict(), night
        # DPD is exactly 30 * k, account by account
        codes = source.set_index("ID")[code_column]
        ids = rows["account_id"].str[2:].astype(int)
        expected = np.where(codes.loc[ids].to_numpy() >= 1, 30 * codes.loc[ids].to_numpy(), 0)
        assert (rows["days_past_due"].astype(int).to_numpy() == expected).all()
    september = read_text(home / "landing" / "account_snapshots" / "2005-09-30.csv")
    counts = pd.Series([file_bucket(int(d), s) for d, s in
                        zip(september["days_past_due"], september["status"])]).value_counts()
    # README value counts of PAY_0: -2 2,759, -1 5,686, 0 14,737, 1 3,688, 2 2,667, ..., 7 9, 8 19
    assert counts.to_dict() == {"M0": 2_759 + 5_686 + 14_737, "M1": 3_688, "M2": 2_667,
                                "M3": 322, "M4": 76, "M5": 26, "M6": 11, "WO": 9 + 19}


def test_roll_rates_cover_the_book_and_match_the_landing_files(landed):
    home, _ = landed
    rates = pay_code_roll_rates(SOURCE)
    assert list(rates.columns) == ["from_date", "to_date", "from_bucket", "to_bucket", "accounts"]
    assert set(rates["from_bucket"]) | set(rates["to_bucket"]) <= set(BUCKETS)
    assert (rates["accounts"] > 0).all()
    per_pair = rates.groupby(["from_date", "to_date"])["accounts"].sum()
    nights = list(NIGHT_CODES)
    assert list(per_pair.index) == list(pairwise(nights))
    assert (per_pair == 30_000).all()

    buckets = {}
    for night in nights:
        rows = read_text(home / "landing" / "account_snapshots" / f"{night}.csv")
        buckets[night] = pd.Series([file_bucket(int(d), s) for d, s in
                                    zip(rows["days_past_due"], rows["status"])],
                                   index=rows["account_id"])
    for before, after in pairwise(nights):
        pair = pd.DataFrame({"from_bucket": buckets[before], "to_bucket": buckets[after]})
        from_files = pair.value_counts().to_dict()
        mine = rates[rates["from_date"] == before]
        assert dict(zip(zip(mine["from_bucket"], mine["to_bucket"]), mine["accounts"])) == from_files


def test_ingest_quarantines_exactly_the_counted_rows(landed, tmp_path):
    home, summary = landed
    parquet_home = tmp_path / "parquet_home"
    parquet_summary = import_taiwan(SOURCE, parquet_home, file_format="parquet")
    assert parquet_summary.delinquent_with_zero_balance_by_night == \
        summary.delinquent_with_zero_balance_by_night
    contract = load_contract("account_snapshots")
    with duckdb.connect() as conn:
        ingest_file(conn, load_contract("customers"),
                    home / "landing" / "customers" / "2005-04-30.csv")
        for night in NIGHT_CODES:
            for root, ext in ((home, "csv"), (parquet_home, "parquet")):
                result = ingest_file(conn, contract,
                                     root / "landing" / "account_snapshots" / f"{night}.{ext}")
                left = summary.delinquent_with_zero_balance_by_night[night]
                assert result.rows_read == 30_000
                assert result.rows_quarantined == left
                assert result.quarantined_by_rule == (
                    {"days_past_due_zero_when_nothing_past_due": left} if left else {})


def uci_source(path: Path, accounts: list[dict]) -> Path:
    """A file in the UCI layout; months are given Apr..Sep and spread onto the UCI columns."""
    header = ["ID", "LIMIT_BAL", "SEX", "EDUCATION", "MARRIAGE", "AGE",
              "PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6",
              *[f"BILL_AMT{i}" for i in range(1, 7)], *[f"PAY_AMT{i}" for i in range(1, 7)],
              "default.payment.next.month"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        writer.writerow(header)
        for a in accounts:
            codes, bills, paid = (list(reversed(a[k])) for k in ("codes", "bills", "paid"))
            writer.writerow([a["id"], a["limit"], 2, 6, 3, 987654, *codes, *bills, *paid, 1])
    return path


def test_mapping_of_hand_written_accounts(tmp_path):
    flat = {"codes": [0] * 6, "bills": [1000] * 6, "paid": [100] * 6}
    source = uci_source(tmp_path / "uci.csv", [
        {"id": 1, "limit": 20000, **flat},
        {"id": 2, "limit": 20000, **flat, "codes": [0, 0, 0, 0, 0, 2], "bills": [0] * 5 + [3913]},
        {"id": 3, "limit": 5000, **flat, "codes": [0, 0, 0, 0, 0, 7], "bills": [0] * 5 + [5000]},
        {"id": 4, "limit": 9000, **flat, "codes": [-2, -2, -2, -2, -2, 1],
         "bills": [0] * 5 + [-109]},
        {"id": 5, "limit": 9000, **flat, "codes": [-1, -2, -1, -2, -1, -2], "bills": [0] * 6},
        {"id": 12345, "limit": 1000000, **flat, "codes": [0, 0, 0, 0, 0, 3],
         "bills": [0] * 5 + [7], "paid": [0] * 5 + [250]},
    ])
    home = tmp_path / "home"
    summary = import_taiwan(source, home)
    september = read_text(home / "landing" / "account_snapshots" / "2005-09-30.csv")
    expected = [
        ["2005-09-30", "TW00001", "TWC00001", "revolving", "2004-10-01", "open", "TWD",
         "20000.00", "1000.00", "100.00", "0.00", "0", "2005-10-25", "100.00", ""],
        ["2005-09-30", "TW00002", "TWC00002", "revolving", "2004-10-01", "open", "TWD",
         "20000.00", "3913.00", "391.30", "782.60", "60", "2005-10-25", "100.00", ""],
        ["2005-09-30", "TW00003", "TWC00003", "revolving", "2004-10-01", "charged_off", "TWD",
         "5000.00", "5000.00", "500.00", "3500.00", "210", "2005-10-25", "100.00", ""],
        ["2005-09-30", "TW00004", "TWC00004", "revolving", "2004-10-01", "open", "TWD",
         "9000.00", "0.00", "0.00", "0.00", "30", "", "100.00", ""],
        ["2005-09-30", "TW00005", "TWC00005", "revolving", "2004-10-01", "open", "TWD",
         "9000.00", "0.00", "0.00", "0.00", "0", "", "100.00", ""],
        ["2005-09-30", "TW12345", "TWC12345", "revolving", "2004-10-01", "open", "TWD",
         "1000000.00", "7.00", "0.70", "2.10", "90", "2005-10-25", "250.00", ""],
    ]
    absent = ["effective_interest_rate", *SNAPSHOT_COLUMNS[SNAPSHOT_COLUMNS.index(
        "past_due_principal"):]]
    assert september.drop(columns=absent).values.tolist() == expected
    # the source has no rates, breakdown, contract or statement
    assert (september[absent] == "").all().all()
    april = read_text(home / "landing" / "account_snapshots" / "2005-04-30.csv")
    assert april["balance"].tolist() == ["1000.00", "0.00", "0.00", "0.00", "0.00", "0.00"]
    assert summary.negative_bills_clamped == 1
    assert summary.delinquent_with_zero_balance == 1
    assert summary.charged_off_rows == 1
    assert summary.pay_codes_read_as_current == 6 * 6 - 4
    assert summary.without_next_due_date == 5 * 5 + 2
    for path in (home / "landing").rglob("*.csv"):
        assert "987654" not in path.read_text(encoding="utf-8")  # the AGE sentinel
    assert read_text(home / "landing" / "customers" / "2005-04-30.csv")["full_name"].tolist()[-1] \
        == "Taiwan customer 12345"


def test_rerun_replaces_and_a_night_in_the_other_format_is_refused(tmp_path):
    source = uci_source(tmp_path / "uci.csv", [
        {"id": 1, "limit": 20000, "codes": [0] * 6, "bills": [1000] * 6, "paid": [100] * 6}])
    home = tmp_path / "home"
    first = import_taiwan(source, home)
    before = {p: p.read_bytes() for p in first.files}
    assert import_taiwan(source, home) == first
    assert {p: p.read_bytes() for p in first.files} == before
    with pytest.raises(FileExistsError):
        import_taiwan(source, home, file_format="parquet")
    with pytest.raises(ValueError):
        import_taiwan(source, home, file_format="xlsx")


def test_a_file_that_is_not_the_uci_book_is_refused(tmp_path):
    bad_code = uci_source(tmp_path / "bad.csv", [
        {"id": 1, "limit": 20000, "codes": [0, 0, 0, 0, 0, 11], "bills": [1] * 6, "paid": [0] * 6}])
    with pytest.raises(ValueError, match="PAY_0"):
        import_taiwan(bad_code, tmp_path / "home")
    missing = tmp_path / "missing.csv"
    missing.write_text("ID,LIMIT_BAL\n1,1000\n")
    with pytest.raises(ValueError, match="missing column"):
        pay_code_roll_rates(missing)
