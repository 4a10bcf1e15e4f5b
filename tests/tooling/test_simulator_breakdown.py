"""The simulator's landing format 1.1 columns: the past-due breakdown adds up to the cent on every
delinquent row, statements, charge-offs, agreements and rates are consistent with the book, and a
simulated night loads with none of it quarantined. Every expectation is recomputed here from
the files' text (integer cents), never taken from the simulator."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from pipelines.lib.ingest.contracts import load_contract
from pipelines.lib.ingest.load import ingest_file
from tooling.simulator import simulate

END = date(2026, 5, 3)
DAYS = 90
START = END - timedelta(days=DAYS - 1)
BREAKDOWN = ("past_due_principal", "past_due_interest", "past_due_penalty_interest",
             "past_due_fees")
RATE = re.compile(r"^[0-9](?:\.[0-9]{1,6})?$")


def _read_text(path: Path) -> pd.DataFrame:
    columns = pacsv.read_csv(path).column_names
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types=dict.fromkeys(columns, pa.string()), strings_can_be_null=True)).to_pandas()


def _cents(values: pd.Series) -> pd.Series:
    return pd.array([None if pd.isna(text) else int(Decimal(text) * 100) for text in values],
                    dtype="Int64")


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("breakdown_book")
    simulate(home, accounts=3_000, days=DAYS, end_date=END, seed=13)
    nights = [START + timedelta(days=i) for i in range(DAYS)]
    text = pd.concat([_read_text(home / "landing" / "account_snapshots" / f"{n}.csv")
                      for n in nights], ignore_index=True)
    frame = text.copy()
    for column in ("past_due_amount", "balance", "statement_balance", *BREAKDOWN):
        frame[column] = _cents(text[column])
    for column in ("snapshot_date", "open_date", "statement_date", "charge_off_date",
                   "contract_date"):
        frame[column] = pd.to_datetime(text[column])
    frame["days_past_due"] = text["days_past_due"].astype(int)
    return {"home": home, "text": text, "snap": frame}


def test_every_delinquent_row_has_a_breakdown_summing_to_its_past_due_amount(book):
    snap = book["snap"]
    owing = snap[snap["past_due_amount"] > 0]
    assert len(owing) > 5_000 and owing["status"].eq("charged_off").any()
    assert owing[list(BREAKDOWN)].notna().all().all()
    assert (owing[list(BREAKDOWN)] >= 0).all().all()
    parts = sum(owing[column].astype("int64") for column in BREAKDOWN)
    assert (parts == owing["past_due_amount"]).all()
    assert snap.loc[snap["past_due_amount"] == 0, list(BREAKDOWN)].isna().all().all()
    collecting = owing[owing["status"].isin(["open", "frozen"])]
    assert (collecting["past_due_fees"] > 0).all()  # a late fee per missed due date
    assert (collecting["past_due_principal"] > 0).mean() > 0.5


def test_penalty_interest_accrues_at_the_penalty_rate_on_past_due_principal(book):
    snap = book["snap"]
    collecting = snap[(snap["past_due_amount"] > 0) & snap["status"].isin(["open", "frozen"])]
    assert (collecting["penalty_interest_rate"] == "0.1825").all()
    # each missed instalment accrues for at most the days past due of the oldest; a cent of
    # rounding per instalment (at most 8 kept)
    most = collecting["past_due_principal"] * 0.1825 * collecting["days_past_due"] / 365 + 10
    assert (collecting["past_due_penalty_interest"] <= most).all()
    month_on = collecting[(collecting["days_past_due"] >= 30)
                          & (collecting["past_due_principal"] >= 100_00)]
    assert (month_on["past_due_penalty_interest"] > 0).all()
    cards = collecting[(collecting["product"] == "revolving")]
    cycles = cards["days_past_due"] // 28 + 1
    monthly = cards["balance"] * cards["annual_interest_rate"].astype(float) / 12
    assert (cards["past_due_interest"] <= cycles * (monthly + 1)).all()


def test_statement_date_and_balance_follow_the_billing_cycle(book):
    snap = book["snap"]
    stated = snap[snap["statement_date"].notna()]
    assert snap["statement_balance"].notna().equals(snap["statement_date"].notna())
    assert (stated["statement_date"] <= stated["snapshot_date"]).all()
    assert (stated["statement_date"] > stated["open_date"]).all()
    assert stated.groupby("account_id")["statement_date"].agg(
        lambda d: d.dt.day.nunique()).eq(1).all()  # one cycle day per account
    active = stated[stated["status"].isin(["open", "frozen"])]
    assert ((active["snapshot_date"] - active["statement_date"]).dt.days <= 31).all()
    assert (snap.loc[snap["status"].eq("open") & (snap["snapshot_date"] - snap["open_date"]
                                                  > pd.Timedelta(days=62)),
                     "statement_date"].notna()).all()
    # a statement made during the simulation states that night's balance
    on_night = snap[["account_id", "snapshot_date", "balance"]].rename(
        columns={"snapshot_date": "statement_date", "balance": "balance_that_night"})
    within = stated[stated["statement_date"] >= pd.Timestamp(START)].merge(
        on_night, on=["account_id", "statement_date"])
    assert len(within) > 10_000
    assert (within["statement_balance"] == within["balance_that_night"]).all()


def test_charge_off_date_is_set_exactly_on_charged_off_rows(book):
    snap = book["snap"]
    charged = snap["status"] == "charged_off"
    assert snap["charge_off_date"].notna().equals(charged)
    off = snap[charged]
    assert (off["charge_off_date"] <= off["snapshot_date"]).all()
    assert off.groupby("account_id")["charge_off_date"].nunique().eq(1).all()
    # charged off at 181 days past due, and DPD keeps counting
    assert ((off["days_past_due"] - (off["snapshot_date"] - off["charge_off_date"]).dt.days)
            == 181).all()
    ordered = snap.sort_values(["account_id", "snapshot_date"])
    before = ordered.groupby("account_id")["status"].shift()
    newly = ordered[charged.loc[ordered.index] & before.isin(["open", "frozen"])]
    assert len(newly) > 5
    assert (newly["charge_off_date"] == newly["snapshot_date"]).all()


def test_agreements_and_rates(book):
    text, snap = book["text"], book["snap"]
    prefix = text["currency"].map({"CNY": "XH", "USD": "GL"})
    year = text["open_date"].str[:4]
    assert (text["contract_reference"] == prefix + "-" + year + "-"
            + text["contract_reference"].str[-10:]).all()
    assert text["contract_reference"].str.fullmatch(r"(XH|GL)-\d{4}-\d{10}").all()
    per_account = text.groupby("account_id")["contract_reference"]
    assert per_account.nunique().eq(1).all()
    assert not per_account.first().duplicated().any()
    assert (snap["contract_date"] == snap["open_date"]).all()
    assert text["annual_interest_rate"].str.fullmatch(RATE.pattern).all()
    rates = text["annual_interest_rate"].astype(float)
    assert rates.between(0.06, 0.36).all()
    loans = text["effective_interest_rate"].notna()
    assert (text.loc[loans, "annual_interest_rate"] == text.loc[loans, "effective_interest_rate"]).all()
    cny_cards = (text["currency"] == "CNY") & (text["product"] == "revolving")
    assert (text.loc[cny_cards, "annual_interest_rate"] == "0.18").all()
    assert (text["penalty_interest_rate"] == "0.1825").all()


def test_a_simulated_night_loads_with_nothing_quarantined(book):
    path = book["home"] / "landing" / "account_snapshots" / f"{END}.csv"
    conn = duckdb.connect()
    result = ingest_file(conn, load_contract("account_snapshots"), path)
    assert result.rows_quarantined == 0 and result.rows_loaded == result.rows_read
    night = book["snap"][book["snap"]["snapshot_date"] == pd.Timestamp(END)]
    sums = conn.execute("select sum(past_due_principal), sum(past_due_interest), "
                        "sum(past_due_penalty_interest), sum(past_due_fees), "
                        "count(charge_off_date), count(statement_date) from account_snapshots"
                        ).fetchone()
    expected = tuple(Decimal(int(night[c].sum())) / 100 for c in BREAKDOWN)
    assert sums[:4] == expected
    assert sums[4:] == (night["charge_off_date"].notna().sum(), night["statement_date"].notna().sum())


def test_parquet_types_the_new_columns_and_carries_the_same_values(tmp_path):
    simulate(tmp_path / "csv", accounts=600, days=3, end_date=END, seed=5)
    simulate(tmp_path / "pq", accounts=600, days=3, end_date=END, seed=5, file_format="parquet")
    table = pq.read_table(tmp_path / "pq" / "landing" / "account_snapshots" / f"{END}.parquet")
    for column in (*BREAKDOWN, "statement_balance"):
        assert table.schema.field(column).type == pa.decimal128(18, 2), column
    for column in ("contract_date", "statement_date", "charge_off_date"):
        assert table.schema.field(column).type == pa.date32(), column
    for column in ("contract_reference", "annual_interest_rate", "penalty_interest_rate"):
        assert table.schema.field(column).type == pa.string(), column
    text = _read_text(tmp_path / "csv" / "landing" / "account_snapshots" / f"{END}.csv")
    typed = table.to_pandas()
    for column in (*BREAKDOWN, "statement_balance"):
        assert [None if v is None else f"{v:.2f}" for v in typed[column]] == \
            [None if pd.isna(v) else v for v in text[column]], column
    assert [None if v is None else v.isoformat() for v in typed["statement_date"]] == \
        [None if pd.isna(v) else v for v in text["statement_date"]]
    assert list(typed["contract_reference"]) == list(text["contract_reference"])


def test_nothing_accrues_after_a_charge_off_and_recoveries_pay_fees_first(book):
    snap = book["snap"]
    off = snap[snap["status"] == "charged_off"].sort_values(["account_id", "snapshot_date"])
    previous = off.groupby("account_id")[list(BREAKDOWN) + ["past_due_amount"]].shift()
    pairs = off.assign(**{f"before_{c}": previous[c] for c in previous}).dropna(
        subset=["before_past_due_amount"])
    for column in (*BREAKDOWN, "past_due_amount"):
        assert (pairs[column].astype("int64") <= pairs[f"before_{column}"].astype("int64")).all()
    recovered = pairs[pairs["past_due_amount"] < pairs["before_past_due_amount"]]
    assert (recovered["past_due_fees"] < recovered["before_past_due_fees"]).any()
    interest_paid = recovered["past_due_interest"] < recovered["before_past_due_interest"]
    assert (recovered.loc[interest_paid, "past_due_fees"] == 0).all()
    penalty_paid = recovered["past_due_penalty_interest"] < recovered[
        "before_past_due_penalty_interest"]
    assert (recovered.loc[penalty_paid, ["past_due_fees", "past_due_interest"]] == 0).all().all()
