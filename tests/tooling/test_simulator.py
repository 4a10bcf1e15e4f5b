"""The simulator writes DOMAIN §7 files exactly, keeps its invariants, and its truth is honest.

One 2,000-account x 100-night book (module fixture) serves most tests; a few small books check
determinism, formats and the macro shock.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from models.buckets import bucket_index
from tooling.simulator import (
    CONTACT_COLUMNS,
    CUSTOMER_COLUMNS,
    EVENT_TYPES,
    SNAPSHOT_COLUMNS,
    TIMEZONES,
    TRUTH_COLUMNS,
    one_month_later,
    simulate,
)

END = date(2026, 5, 3)
DAYS = 100
ACCOUNTS = 2_000
START = END - timedelta(days=DAYS - 1)
AMOUNTS = ("credit_limit", "balance", "amount_due", "past_due_amount", "payment_amount")
DATES = ("snapshot_date", "open_date", "next_due_date", "last_payment_date")
AMOUNT_TEXT = re.compile(r"^\d+\.\d{2}$")
DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EVENT_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})([+-]\d{2}:\d{2})$")
LOOSE_VINTAGE = (START - timedelta(days=270), START - timedelta(days=150))  # simulator's window


def _read_text(path: Path) -> pd.DataFrame:
    """A landing CSV with every value as text, empty fields as None."""
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types={c: pa.string() for c in _header(path)}, strings_can_be_null=True))
    return table.to_pandas()


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def _nights(start: date = START, days: int = DAYS) -> list[date]:
    return [start + timedelta(days=i) for i in range(days)]


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("book")
    summary = simulate(home, accounts=ACCOUNTS, days=DAYS, end_date=END, seed=7)
    snapshots = pd.concat([_read_text(home / "landing" / "account_snapshots" / f"{n}.csv")
                           for n in _nights()], ignore_index=True)
    numeric = snapshots.copy()
    for column in AMOUNTS:
        numeric[column] = numeric[column].astype(float)
    numeric["days_past_due"] = numeric["days_past_due"].astype(int)
    for column in DATES:
        numeric[column] = pd.to_datetime(numeric[column]).dt.date
    numeric["bucket"] = bucket_index(numeric["days_past_due"].to_numpy(),
                                     (numeric["status"] == "charged_off").to_numpy())
    truth = pd.concat([pq.read_table(home / "truth" / f"{n}.parquet").to_pandas()
                       for n in _nights()], ignore_index=True)
    customers = pd.concat(
        [_read_text(home / "landing" / "customers" / f"{n}.csv").assign(night=n)
         for n in _nights()], ignore_index=True)
    events = pd.concat(
        [_read_text(home / "landing" / "contact_events" / f"{n}.csv").assign(night=n)
         for n in _nights()], ignore_index=True)
    return {"home": home, "summary": summary, "text": snapshots, "snap": numeric,
            "truth": truth, "customers": customers, "events": events}


def _one_month_pairs(snap: pd.DataFrame, nights: list[date]) -> pd.DataFrame:
    """Each account-night with its bucket on the same day next month (absent = closed, M0)."""
    by_night = {night: frame.set_index("account_id")["bucket"]
                for night, frame in snap.groupby("snapshot_date")}
    pairs = []
    for night in nights:
        later = one_month_later(night)
        if later not in by_night:
            break
        now = by_night[night]
        pairs.append(pd.DataFrame({"snapshot_date": night, "account_id": now.index,
                                   "bucket": now.to_numpy(),
                                   "later": now.index.map(by_night[later]).fillna(0).to_numpy()}))
    return pd.concat(pairs, ignore_index=True)


# --- files and text ---------------------------------------------------------------------------

def test_every_night_has_three_landing_files_and_truth(book):
    home = book["home"]
    summary = book["summary"]
    assert summary.start_date == START and summary.end_date == END
    weekdays = sum(1 for night in _nights() if night.weekday() < 5)
    assert len(summary.files) == 4 * DAYS + weekdays  # fx_rates: weekdays only
    assert summary.rows["fx_rates"] == weekdays
    assert summary.accounts == book["snap"]["account_id"].nunique()
    assert summary.customers == book["customers"]["customer_id"].nunique()
    assert summary.rows["account_snapshots"] == len(book["snap"])
    for night in _nights():
        assert _header(home / "landing" / "account_snapshots" / f"{night}.csv") == \
            list(SNAPSHOT_COLUMNS)
        assert _header(home / "landing" / "customers" / f"{night}.csv") == list(CUSTOMER_COLUMNS)
        assert _header(home / "landing" / "contact_events" / f"{night}.csv") == \
            list(CONTACT_COLUMNS)
        assert pq.read_schema(home / "truth" / f"{night}.parquet").names == list(TRUTH_COLUMNS)


def test_snapshot_text_is_exact(book):
    text = book["text"]
    for column in AMOUNTS:
        values = text[column]
        assert values.notna().all(), column
        assert values.str.match(AMOUNT_TEXT).all(), (column, values[~values.str.match(AMOUNT_TEXT)])
    for column in DATES:
        values = text[column].dropna()
        assert values.str.match(DATE_TEXT).all(), column
    assert text[["snapshot_date", "open_date"]].notna().all().all()
    assert text["days_past_due"].str.fullmatch(r"\d+").all()
    assert set(text["status"]) <= {"open", "closed", "frozen", "charged_off"}
    assert set(text["product"]) == {"revolving", "installment"}
    assert (text["product"] == "revolving").mean() > 0.5
    assert text["account_id"].str.fullmatch(r"AC\d{8}").all()
    assert text["customer_id"].str.fullmatch(r"CU\d{7}").all()
    raw = (book["home"] / "landing" / "account_snapshots" / f"{END}.csv").read_bytes()
    raw.decode("utf-8")
    assert raw.endswith(b"\n") and b"e+" not in raw and b'"' not in raw


def test_one_row_per_account_and_the_snapshot_date_is_the_file_date(book):
    snap = book["snap"]
    assert not snap.duplicated(["snapshot_date", "account_id"]).any()
    home = book["home"]
    night = _read_text(home / "landing" / "account_snapshots" / f"{START}.csv")
    assert (night["snapshot_date"] == START.isoformat()).all()


def test_clean_rows_keep_every_invariant(book):
    snap = book["snap"]
    assert (snap["past_due_amount"] >= 0).all()
    assert (snap["past_due_amount"] <= snap["balance"] + 1e-9).all()
    assert ((snap["days_past_due"] == 0) == (snap["past_due_amount"] == 0)).all()
    assert (snap["balance"] >= 0).all() and (snap["amount_due"] >= 0).all()
    assert (snap["credit_limit"] >= 0).all() and (snap["payment_amount"] >= 0).all()
    assert (snap["open_date"] <= snap["snapshot_date"]).all()
    paid = snap["last_payment_date"].notna()
    assert (snap.loc[paid, "last_payment_date"] <= snap.loc[paid, "snapshot_date"]).all()
    # a payment tonight is dated tonight
    tonight = snap["payment_amount"] > 0
    assert (snap.loc[tonight, "last_payment_date"] == snap.loc[tonight, "snapshot_date"]).all()
    assert (snap.loc[snap["status"] == "closed", "balance"] == 0).all()
    assert (snap.loc[snap["status"] == "charged_off", "days_past_due"] > 180).all()
    active = snap["status"].isin(["open", "frozen"])
    assert (snap.loc[active, "days_past_due"] <= 180).all()


def test_currency_follows_the_customer_country(book):
    countries = book["customers"].drop_duplicates("customer_id").set_index("customer_id")["country"]
    snap = book["snap"]
    country = snap["customer_id"].map(countries)
    assert country.notna().all()
    assert ((country == "CN") == (snap["currency"] == "CNY")).all()
    assert ((country == "US") == (snap["currency"] == "USD")).all()


# --- dynamics ---------------------------------------------------------------------------------

def _consecutive(snap: pd.DataFrame) -> pd.DataFrame:
    ordered = snap.sort_values(["account_id", "snapshot_date"])
    previous = ordered.groupby("account_id").shift(1)
    keep = previous["snapshot_date"].notna()
    both = ordered[keep].copy()
    for column in ("snapshot_date", "days_past_due", "status", "balance", "bucket"):
        both[f"previous_{column}"] = previous.loc[keep, column]
    return both


def test_dpd_counts_days_and_only_payments_lower_it(book):
    steps = _consecutive(book["snap"])
    assert (steps["snapshot_date"] - steps["previous_snapshot_date"] == timedelta(days=1)).all()
    delta = steps["days_past_due"] - steps["previous_days_past_due"]
    assert (delta <= 1).all(), "DPD rises by one a day at most"
    fell = delta < 0
    assert (steps.loc[fell, "payment_amount"] > 0).all(), "only a payment lowers DPD"
    behind = steps["previous_days_past_due"] > 0
    unpaid = steps["payment_amount"] == 0
    assert (delta[behind & unpaid] == 1).all()
    cures = fell & (steps["days_past_due"] == 0)
    partial = fell & (steps["days_past_due"] > 0)
    assert cures.sum() > 50 and partial.sum() > 5, "cures and partial cures both happen"


def test_charged_off_accounts_stay_and_closed_accounts_drop_out(book):
    snap = book["snap"]
    steps = _consecutive(snap)
    written_off = steps["previous_status"] == "charged_off"
    assert (steps.loc[written_off, "status"] == "charged_off").all()
    assert (steps.loc[written_off, "days_past_due"]
            == steps.loc[written_off, "previous_days_past_due"] + 1).all()
    new_write_offs = (steps["status"] == "charged_off") & (steps["previous_status"] != "charged_off")
    assert new_write_offs.sum() > 0
    assert (steps.loc[new_write_offs, "days_past_due"] == 181).all()
    closed = snap[snap["status"] == "closed"]
    closed_nights = closed.groupby("account_id")["snapshot_date"].agg(["min", "max"])
    last_night = snap["snapshot_date"].max()
    dropped = closed_nights[closed_nights["max"] < last_night]
    assert len(dropped) > 0
    assert ((dropped["max"] - dropped["min"]).apply(lambda d: d.days) <= 31).all()
    assert (snap["status"] == "frozen").any()


def test_accounts_open_over_time_and_vintages_differ(book):
    snap = book["snap"]
    first_seen = snap.groupby("account_id")["snapshot_date"].min()
    opened = snap.groupby("account_id")["open_date"].first()
    new = first_seen[first_seen > START]
    assert len(new) > 50
    assert (opened[new.index] == new).all(), "a new account appears on its open date"
    ever_30 = snap.groupby("account_id")["days_past_due"].max() >= 31
    loose = (opened >= LOOSE_VINTAGE[0]) & (opened < LOOSE_VINTAGE[1])
    seasoned = opened < LOOSE_VINTAGE[0]
    assert ever_30[loose].mean() > 1.3 * ever_30[seasoned].mean()
    risk = book["truth"].groupby("account_id")["latent_risk"].mean()
    assert risk[loose[loose].index].mean() > risk[seasoned[seasoned].index].mean() + 0.3


def test_marginal_targets(book):
    snap = book["snap"]
    late = snap[snap["snapshot_date"] >= START + timedelta(days=90)]
    share_30 = late.groupby("snapshot_date")["days_past_due"].apply(lambda d: (d >= 31).mean())
    assert share_30.between(0.02, 0.15).all(), share_30.describe()
    buckets = snap.pivot(index="account_id", columns="snapshot_date", values="bucket")
    nights = sorted(buckets.columns)
    in_m1 = in_m2 = cured = 0
    for i in range(30, len(nights)):
        before, after = buckets[nights[i - 30]], buckets[nights[i]]
        m1 = (before == 1) & after.notna()
        in_m1 += int(m1.sum())
        in_m2 += int((after[m1] == 2).sum())
        cured += int((after[m1] == 0).sum())
    assert in_m1 > 200
    assert 0.2 <= in_m2 / in_m1 <= 0.8
    assert cured > 0
    pairs = _one_month_pairs(snap, nights)
    assert (pairs["later"] > pairs["bucket"]).any(), "roll-forwards"
    assert ((pairs["later"] < pairs["bucket"]) & (pairs["later"] > 0)).any(), "roll-backs"
    assert ((pairs["later"] == 0) & (pairs["bucket"] > 0)).any(), "cures"


# --- truth ------------------------------------------------------------------------------------

def test_truth_rows_match_the_snapshots(book):
    truth, snap = book["truth"], book["snap"]
    assert len(truth) == len(snap)
    merged = snap.merge(truth, on=["snapshot_date", "account_id"], how="inner",
                        suffixes=("", "_truth"))
    assert len(merged) == len(snap)
    codes = merged["bucket_truth"].map({f"M{i}": i for i in range(7)} | {"WO": 7})
    assert (codes == merged["bucket"]).all()
    assert truth["true_roll_forward_probability"].between(0, 1).all()
    assert truth["latent_risk"].notna().all()
    assert (truth.loc[truth["bucket"] == "WO", "true_roll_forward_probability"] == 0).all()


def test_truth_is_calibrated_and_ranks_accounts(book):
    snap = book["snap"].merge(book["truth"][["snapshot_date", "account_id",
                                             "true_roll_forward_probability"]],
                              on=["snapshot_date", "account_id"])
    pairs = _one_month_pairs(snap, _nights()).merge(
        snap[["snapshot_date", "account_id", "true_roll_forward_probability"]],
        on=["snapshot_date", "account_id"])
    pairs["rolled"] = pairs["later"] > pairs["bucket"]
    observed = pairs["rolled"].mean()
    expected = pairs["true_roll_forward_probability"].mean()
    assert 0.02 < observed < 0.15
    assert abs(expected - observed) < 0.015, (expected, observed)
    decile = pd.qcut(pairs["true_roll_forward_probability"].rank(method="first"), 10, labels=False)
    by_decile = pairs.groupby(decile)["rolled"].mean()
    assert by_decile.iloc[-1] > by_decile.iloc[0] + 0.2
    assert by_decile.iloc[-1] > by_decile.iloc[-2] > by_decile.iloc[-3]
    delinquent = pairs[(pairs["bucket"] >= 1) & (pairs["bucket"] <= 6)]
    assert abs(delinquent["true_roll_forward_probability"].mean()
               - delinquent["rolled"].mean()) < 0.05


# --- customers --------------------------------------------------------------------------------

def test_customer_fields(book):
    customers = book["customers"]
    first = customers[customers["night"] == START]
    snap_first = book["snap"][book["snap"]["snapshot_date"] == START]
    assert set(first["customer_id"]) == set(snap_first["customer_id"])
    phones = customers["mobile_phone"].dropna()
    assert phones.str.match(E164).all()
    cn, us = customers[customers["country"] == "CN"], customers[customers["country"] == "US"]
    assert cn["mobile_phone"].dropna().str.match(r"^\+861[3-9]\d{9}$").all()
    assert us["mobile_phone"].dropna().str.match(r"^\+1[2-9]\d{2}[2-9]\d{6}$").all()
    assert 0.78 < len(cn) / len(customers) < 0.92
    assert set(customers["country"]) == {"CN", "US"}
    assert set(customers["preferred_language"]) == {"zh-CN", "en-US"}
    assert (cn["preferred_language"] == "zh-CN").all()
    assert (us["preferred_language"] == "zh-CN").any()
    for zone in customers["timezone"].unique():
        ZoneInfo(zone)
    assert set(cn["timezone"]) <= {"Asia/Shanghai", "Asia/Urumqi"}
    assert (cn["timezone"] == "Asia/Urumqi").any()
    assert set(us["timezone"]) <= set(TIMEZONES[2:])
    assert customers["email"].isna().any() and customers["mobile_phone"].isna().any()
    assert customers["email"].dropna().str.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$").all()
    assert customers["full_name"].notna().all()
    names = customers["full_name"]
    assert names.str.contains("·").any(), "minority names with the middle dot"
    assert names.str.startswith(("欧阳", "司马", "诸葛", "上官", "东方", "司徒", "皇甫")).any()
    assert us["full_name"].str.contains("'").any()
    assert customers["postal_address"].str.contains(",").any()
    assert us["postal_code"].str.fullmatch(r"\d{5}").all()
    assert cn["postal_code"].str.fullmatch(r"\d{6}").all()


def test_customer_csv_quotes_commas_and_quotes(book):
    path = book["home"] / "landing" / "customers" / f"{START}.csv"
    text = path.read_text(encoding="utf-8")
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert all(len(r) == len(CUSTOMER_COLUMNS) for r in records)
    addresses = [r[CUSTOMER_COLUMNS.index("postal_address")] for r in records[1:]]
    assert any('"' in a for a in addresses), "an address with quotes survives the round trip"
    assert '""' in text


def test_later_nights_carry_only_new_or_changed_customers(book):
    customers = book["customers"]
    later = customers[customers["night"] > START]
    assert later.groupby("night").size().max() < 0.1 * ACCOUNTS
    empty_nights = [n for n in _nights()[1:] if (later["night"] == n).sum() == 0]
    for night in empty_nights:  # a night with nothing still has its header
        path = book["home"] / "landing" / "customers" / f"{night}.csv"
        assert path.read_text(encoding="utf-8").count("\n") == 1
    repeated = customers[customers.duplicated("customer_id", keep=False)]
    assert len(repeated) > 0, "some customers moved or changed phone"
    for _, rows in repeated.sort_values("night").fillna("").groupby("customer_id"):
        before, after = rows.iloc[0], rows.iloc[1]
        changed = [c for c in CUSTOMER_COLUMNS if before[c] != after[c]]
        assert changed and set(changed) <= {"postal_address", "city", "region", "postal_code",
                                            "timezone", "mobile_phone"}, changed
    new_ones = later[~later["customer_id"].isin(customers.loc[customers["night"] == START,
                                                               "customer_id"])]
    opened = book["snap"].groupby("customer_id")["open_date"].min()
    first_night = new_ones.groupby("customer_id")["night"].min()
    assert (first_night == opened[first_night.index]).all()


# --- contact events ---------------------------------------------------------------------------

def test_contact_events(book):
    events = book["events"]
    customers = book["customers"].drop_duplicates("customer_id").set_index("customer_id")
    assert set(events["event_type"]) <= set(EVENT_TYPES)
    assert {"call_attempt", "call_connected", "promise_to_pay", "dispute_opened",
            "complaint", "opt_out"} <= set(events["event_type"])
    assert events["event_id"].is_unique
    parts = events["event_time"].str.extract(EVENT_TIME)
    assert parts.notna().all().all()
    assert (parts[0] == events["night"].astype(str)).all(), "local date is the file's night"
    hours = parts[1].astype(int)
    calls = events["event_type"].isin(["call_attempt", "call_connected"])
    assert hours[calls].between(9, 20).all()
    # the offset is the customer's time zone on that night (time zones may change on a move,
    # so check customers who never changed)
    steady = book["customers"].groupby("customer_id")["timezone"].nunique() == 1
    sample = events[events["customer_id"].isin(steady[steady].index)].head(3000)
    for (_, event), offset in zip(sample.iterrows(), parts.loc[sample.index, 4], strict=True):
        zone = ZoneInfo(customers.loc[event["customer_id"], "timezone"])
        local = datetime.fromisoformat(event["event_time"]).replace(tzinfo=None)
        expected = local.replace(tzinfo=zone).utcoffset()
        assert datetime.fromisoformat(event["event_time"]).utcoffset() == expected
        assert offset
    promises = events[events["event_type"] == "promise_to_pay"]
    assert promises["amount"].notna().all() and promises["until_date"].notna().all()
    assert (pd.to_datetime(promises["until_date"]).dt.date > promises["night"]).all()
    assert promises["amount"].str.match(AMOUNT_TEXT).all()
    opt_outs = events[events["event_type"] == "opt_out"]
    assert opt_outs["channel"].notna().all() and opt_outs["account_id"].isna().all()
    assert set(events["channel"].dropna()) <= {"sms", "email", "phone", "letter", "app", "visit"}


def test_calls_go_to_delinquent_accounts_and_connected_calls_help(book):
    events, snap = book["events"], book["snap"]
    calls = events[events["event_type"].isin(["call_attempt", "call_connected"])]
    state = snap.set_index(["snapshot_date", "account_id"])
    called = state.loc[list(zip(calls["night"], calls["account_id"], strict=True))]
    assert called["days_past_due"].between(1, 180).all()
    assert called["status"].isin(["open", "frozen"]).all()
    # cure within 7 days: after a connected call versus after only unanswered attempts
    dpd = snap.pivot(index="account_id", columns="snapshot_date", values="days_past_due")
    nights = list(dpd.columns)
    position = {night: i for i, night in enumerate(nights)}
    by_account_night = calls.groupby(["account_id", "night"])["event_type"].agg(
        lambda kinds: "call_connected" in set(kinds))
    outcomes = {True: [], False: []}
    for (account, night), connected in by_account_night.items():
        i = position[night]
        if i + 7 >= len(nights):
            continue
        window = dpd.loc[account, nights[i + 1]: nights[i + 7]]
        outcomes[bool(connected)].append(bool((window == 0).any()))
    assert len(outcomes[True]) > 200 and len(outcomes[False]) > 200
    assert np.mean(outcomes[True]) > 1.3 * np.mean(outcomes[False])


# --- runs and options -------------------------------------------------------------------------

def _digest(home: Path) -> dict[str, str]:
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(home.rglob("*")) if p.is_file()}


def test_deterministic_for_a_seed(tmp_path):
    first = simulate(tmp_path / "a", accounts=300, days=12, end_date=END, seed=11)
    simulate(tmp_path / "b", accounts=300, days=12, end_date=END, seed=11)
    simulate(tmp_path / "c", accounts=300, days=12, end_date=END, seed=12)
    a, b, c = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert a == b
    fx_files = sum(1 for night in _nights(END - timedelta(days=11), 12) if night.weekday() < 5)
    assert len(a) == 4 * 12 + fx_files == len(first.files)
    differing = [name for name in a if a[name] != c.get(name)]
    assert len(differing) > 40


def test_parquet_carries_the_same_book(tmp_path):
    simulate(tmp_path / "csv", accounts=400, days=3, end_date=END, seed=5)
    summary = simulate(tmp_path / "pq", accounts=400, days=3, end_date=END, seed=5,
                       file_format="parquet")
    assert all(p.suffix == ".parquet" for p in summary.files)
    table = pq.read_table(tmp_path / "pq" / "landing" / "account_snapshots" / f"{END}.parquet")
    assert table.column_names == list(SNAPSHOT_COLUMNS)
    assert table.schema.field("balance").type == pa.decimal128(18, 2)
    assert table.schema.field("snapshot_date").type == pa.date32()
    assert table.schema.field("days_past_due").type == pa.int32()
    text = _read_text(tmp_path / "csv" / "landing" / "account_snapshots" / f"{END}.csv")
    typed = table.to_pandas()
    assert list(typed["account_id"]) == list(text["account_id"])
    assert [f"{v:.2f}" for v in typed["balance"]] == list(text["balance"])
    events = pq.read_table(tmp_path / "pq" / "landing" / "contact_events" / f"{END}.parquet")
    assert events.schema.field("amount").type == pa.decimal128(18, 2)
    assert all(EVENT_TIME.match(t) for t in events.column("event_time").to_pylist())
    customers = pq.read_table(tmp_path / "pq" / "landing" / "customers"
                              / f"{summary.start_date}.parquet")
    assert customers.column_names == list(CUSTOMER_COLUMNS)


def test_macro_shock_raises_new_delinquency(tmp_path):
    shock = END - timedelta(days=30)
    base = simulate(tmp_path / "base", accounts=1_500, days=60, end_date=END, seed=3)
    simulate(tmp_path / "shock", accounts=1_500, days=60, end_date=END, seed=3,
             macro_shock_date=shock, macro_shock_size=1.5)

    def new_delinquencies(home: Path) -> int:
        total = 0
        for night in _nights(base.start_date, 60):
            if night <= shock:
                continue
            frame = _read_text(home / "landing" / "account_snapshots" / f"{night}.csv")
            total += int((frame["days_past_due"] == "1").sum())
        return total

    assert new_delinquencies(tmp_path / "shock") > 1.3 * new_delinquencies(tmp_path / "base")
    before = END - timedelta(days=31)
    same = [(tmp_path / h / "landing" / "account_snapshots" / f"{before}.csv").read_bytes()
            for h in ("base", "shock")]
    assert same[0] == same[1], "nothing changes before the shock"


def test_small_books_defaults_and_validation(tmp_path, capsys):
    summary = simulate(tmp_path / "tiny", accounts=3, days=2, progress=True)
    assert summary.end_date == date.today() - timedelta(days=1)
    assert summary.start_date == summary.end_date - timedelta(days=1)
    assert "2/2" in capsys.readouterr().err
    for bad in ({"accounts": 0}, {"days": 0}, {"file_format": "xlsx"}, {"macro_shock_size": -1}):
        with pytest.raises(ValueError):
            simulate(tmp_path / "bad", **bad)


def test_one_month_later_follows_the_domain_rule():
    assert one_month_later(date(2026, 1, 31)) == date(2026, 2, 28)
    assert one_month_later(date(2026, 2, 28)) == date(2026, 3, 31)
    assert one_month_later(date(2026, 10, 31)) == date(2026, 11, 30)
    assert one_month_later(date(2026, 11, 30)) == date(2026, 12, 31)
    assert one_month_later(date(2026, 12, 15)) == date(2027, 1, 15)
    assert one_month_later(date(2024, 1, 30)) == date(2024, 2, 29)
    assert calendar.isleap(2024)
    assert list(bucket_index(np.array([0, 1, 30, 31, 60, 61, 180, 181]))) == \
        [0, 1, 1, 2, 2, 3, 6, 7]
