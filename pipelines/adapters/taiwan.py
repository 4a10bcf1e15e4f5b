"""Import the UCI Taiwan 2005 credit-card book as six nights of landing files (DOMAIN.md §7).

Why: the simulator's book is synthetic. This file is a real one, 30,000 card accounts with six
months of repayment status, bill and payment amounts (Yeh & Lien 2009, UCI dataset 350,
CC BY 4.0). Landing it as ordinary nightly files lets every later stage (ingest, roll rates,
model, reports) run on real delinquency, and `pay_code_roll_rates` gives the answer the
pipeline's roll-rate matrices must reproduce.

Output, for each month end D in 2005-04-30, 05-31, 06-30, 07-31, 08-31, 09-30::

    <home>/landing/account_snapshots/D.csv   one row per account, exactly the §7 columns
    <home>/landing/customers/D.csv           all 30,000 placeholder customers on 2005-04-30,
                                             header only on later nights (nothing changes)

``file_format="parquet"`` writes ``D.parquet`` instead (amounts decimal(18,2), dates date32,
days_past_due int32). Files are written to a temporary name and renamed, so a watching sensor
never sees half a file. Re-running overwrites the same nights; a night already landed in the
other format raises ``FileExistsError`` before anything is written (two formats for one night
would be rejected by ingest as ambiguous).

Mapping and assumptions (each is a choice the source does not settle; see also README.md):

* Months: Apr = PAY_6/BILL_AMT6/PAY_AMT6, May = 5, Jun = 4, Jul = 3, Aug = 2,
  Sep = PAY_0/BILL_AMT1/PAY_AMT1 (there is no PAY_1). Each month is read as the state at its
  last day.
* Repayment status k: -2, -1 and 0 are current (days_past_due 0; -2 and 0 are undocumented by
  UCI and counted in ``pay_codes_read_as_current`` together with -1). k >= 1 is k months late:
  days_past_due = 30 * k, so k = 1..6 fall in M1..M6 and k >= 7 (210+ DPD) is beyond 180.
* status = ``charged_off`` when days_past_due > 180, else ``open``. The source carries no
  write-off flag, so an account can return from charged_off to open if its code improves.
* account_id = ``TW`` + ID zero-padded to 5 digits, customer_id = ``TWC`` + the same; product
  ``revolving``; currency ``TWD``; credit_limit = LIMIT_BAL.
* open_date = 2004-10-01 for every account (placeholder: the source has no open date; this gives
  at least six months on book before April 2005). Vintage analyses on this book are meaningless.
* balance = max(BILL_AMT, 0). A negative bill is a credit balance the format cannot carry; it is
  clamped to 0 and counted in ``negative_bills_clamped``.
* amount_due = 10 % of balance, to the cent (half up). A round approximation of the minimum
  payment on the month's statement, not Taiwan's 2005 rule; the source has no minimum payment.
* past_due_amount = 0 when current; when k >= 1, min(balance, max(k * amount_due, 0.01)), i.e.
  k missed minimums approximated by this month's minimum. With 10 % and k <= 9 the cap at balance
  never binds; both the cap and the 0.01 floor are counted anyway.
* Known source properties left as they are: code 1 is nearly absent in Apr-Aug (0-28 accounts)
  but 3,688 in Sep, 1,689 of them with a bill <= 0, so PAY_0 = 1 is probably coded differently;
  accounts move from code 0 straight to 2 within one month; bills above the limit occur.
* Delinquent with nothing owed (k >= 1 and BILL_AMT <= 0): no past-due amount can satisfy
  0 < past_due_amount <= balance. The row is written as the source states it: days_past_due
  30 * k, balance = amount_due = past_due_amount = 0. Inventing a balance would fabricate debt
  and zeroing the DPD would hide the delinquency, so the contract rule
  ``days_past_due_zero_when_nothing_past_due`` quarantines these rows and the data-quality report
  shows them. Counted in ``delinquent_with_zero_balance`` (and per night).
* payment_amount = PAY_AMT of the month (UCI labels PAY_AMTn with BILL_AMTn's month). Read as
  paid during that month, i.e. since the previous month-end snapshot, toward the previous
  month's statement; the source does not say which statement a payment settles.
* next_due_date = the month end + 25 days when balance > 0; empty when nothing is owed (counted
  in ``without_next_due_date``). last_payment_date is always empty: the source has no dates.
* Customers are placeholders: full_name ``Taiwan customer <ID>``, no phone, e-mail or address,
  country ``TW``, preferred_language ``en-US``, timezone ``Asia/Taipei``.
* Never carried into any output: SEX, EDUCATION, MARRIAGE, AGE (protected attributes, DOMAIN §3)
  and the target ``default.payment.next.month``. They are not even read from the source.
* Amounts are whole NT$ in the source; they are held as integer cents so nothing is formatted
  from a float. A missing or non-finite value, a negative LIMIT_BAL or PAY_AMT, a PAY code
  outside -2..9 or a repeated ID raises ``ValueError``: that is not the UCI file.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from models.buckets import BUCKETS, bucket_of
from pipelines.lib.ingest.contracts import load_contract

log = logging.getLogger(__name__)

SNAPSHOT_COLUMNS: tuple[str, ...] = tuple(load_contract("account_snapshots").column_names)
CUSTOMER_COLUMNS: tuple[str, ...] = tuple(load_contract("customers").column_names)
MONEY_COLUMNS = ("credit_limit", "balance", "amount_due", "past_due_amount", "payment_amount")
DATE_COLUMNS = ("snapshot_date", "open_date", "next_due_date", "last_payment_date")


@dataclass(frozen=True)
class SourceMonth:
    """Which source columns describe one month, and the month end they are landed as."""

    night: date
    pay_code: str
    bill: str
    paid: str


MONTHS: tuple[SourceMonth, ...] = (
    SourceMonth(date(2005, 4, 30), "PAY_6", "BILL_AMT6", "PAY_AMT6"),
    SourceMonth(date(2005, 5, 31), "PAY_5", "BILL_AMT5", "PAY_AMT5"),
    SourceMonth(date(2005, 6, 30), "PAY_4", "BILL_AMT4", "PAY_AMT4"),
    SourceMonth(date(2005, 7, 31), "PAY_3", "BILL_AMT3", "PAY_AMT3"),
    SourceMonth(date(2005, 8, 31), "PAY_2", "BILL_AMT2", "PAY_AMT2"),
    SourceMonth(date(2005, 9, 30), "PAY_0", "BILL_AMT1", "PAY_AMT1"),
)
NIGHTS: tuple[date, ...] = tuple(m.night for m in MONTHS)
PAY_CODE_COLUMNS = tuple(m.pay_code for m in MONTHS)
NOT_CARRIED = ("SEX", "EDUCATION", "MARRIAGE", "AGE", "default.payment.next.month")

OPEN_DATE = date(2004, 10, 1)
DUE_DAYS_AFTER_MONTH_END = 25
MINIMUM_PAYMENT_PERCENT = 10
PRODUCT, CURRENCY = "revolving", "TWD"
ID_WIDTH = 5
QUARANTINE_RULE = "days_past_due_zero_when_nothing_past_due"


@dataclass(frozen=True)
class ImportSummary:
    """What was written and how often each documented adjustment applied (rows over all nights).

    Attributes:
        nights: The snapshot dates written, oldest first.
        accounts: Accounts in the source (one row per account per night).
        snapshot_rows: account_snapshots rows written over all nights.
        customer_rows: customers rows written over all nights.
        files: Every landing file written.
        pay_codes_read_as_current: Rows with PAY code -2, -1 or 0 (days_past_due 0).
        negative_bills_clamped: Rows whose negative BILL_AMT became balance 0.
        charged_off_rows: Rows with days_past_due > 180, landed as status charged_off.
        past_due_capped_at_balance: Delinquent rows where k * amount_due exceeded the balance.
        past_due_raised_to_one_cent: Delinquent rows where k * amount_due was below 0.01.
        without_next_due_date: Rows with nothing owed, so no next due date.
        delinquent_with_zero_balance: Rows with DPD > 0 and BILL_AMT <= 0, written as stated and
            left for the contract to quarantine (rule ``days_past_due_zero_when_nothing_past_due``).
        delinquent_with_zero_balance_by_night: The same, per snapshot date.
    """

    nights: tuple[date, ...]
    accounts: int
    snapshot_rows: int
    customer_rows: int
    files: tuple[Path, ...]
    pay_codes_read_as_current: int
    negative_bills_clamped: int
    charged_off_rows: int
    past_due_capped_at_balance: int
    past_due_raised_to_one_cent: int
    without_next_due_date: int
    delinquent_with_zero_balance: int
    delinquent_with_zero_balance_by_night: dict[date, int] = field(default_factory=dict)


def days_past_due_of(pay_code: np.ndarray) -> np.ndarray:
    """DPD from a PAY code: -2, -1, 0 are current; k >= 1 months late is 30 * k days."""
    code = np.asarray(pay_code, dtype=np.int64)
    return np.where(code >= 1, 30 * code, 0)


def _read_source(source: Path, columns: list[str]) -> pd.DataFrame:
    """Only the named columns, checked; protected attributes are never read."""
    if set(columns) & set(NOT_CARRIED):
        raise ValueError(f"never read: {sorted(set(columns) & set(NOT_CARRIED))}")
    header = pd.read_csv(source, nrows=0).columns
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValueError(f"{source}: not the UCI Taiwan file, missing column(s) {missing}")
    frame = pd.read_csv(source, usecols=columns, dtype="float64")
    if frame.isna().any().any() or not np.isfinite(frame.to_numpy()).all():
        bad = [c for c in columns if frame[c].isna().any() or not np.isfinite(frame[c]).all()]
        raise ValueError(f"{source}: missing or non-finite values in {bad}")
    ids = frame["ID"]
    if (ids != ids.round()).any() or (ids < 1).any() or ids.duplicated().any():
        raise ValueError(f"{source}: ID must be unique positive integers")
    for name in (c for c in columns if c.startswith("PAY_") and not c.startswith("PAY_AMT")):
        codes = frame[name]
        if (codes != codes.round()).any() or (codes < -2).any() or (codes > 9).any():
            raise ValueError(f"{source}: {name} has codes outside -2..9")
    for name in (c for c in columns if c == "LIMIT_BAL" or c.startswith("PAY_AMT")):
        if (frame[name] < 0).any():
            raise ValueError(f"{source}: {name} has negative amounts")
    return frame


def _cents(values: pd.Series) -> np.ndarray:
    """NT$ as integer cents, so amounts are never formatted from a float."""
    return np.round(values.to_numpy(dtype=np.float64) * 100).astype(np.int64)


def _money_text(cents: np.ndarray) -> pd.Series:
    """Non-negative cents as `1234.50`: exactly two decimals, never scientific notation."""
    whole = pd.Series(cents // 100).astype(str)
    fraction = pd.Series(cents % 100).astype(str).str.zfill(2)
    return whole + "." + fraction


def _snapshot_night(frame: pd.DataFrame, month: SourceMonth, ids: np.ndarray,
                    counts: dict[str, int]) -> pd.DataFrame:
    """One night's account_snapshots rows as text, adding each adjustment to `counts`."""
    n = len(frame)
    code = frame[month.pay_code].to_numpy(dtype=np.int64)
    dpd = days_past_due_of(code)
    bill = _cents(frame[month.bill])
    balance = np.maximum(bill, 0)
    amount_due = (balance * MINIMUM_PAYMENT_PERCENT + 50) // 100  # half up, to the cent
    delinquent = dpd > 0
    missed = np.where(delinquent, code, 0) * amount_due
    past_due = np.where(delinquent, np.minimum(balance, np.maximum(missed, 1)), 0)
    owes = balance > 0

    counts["pay_codes_read_as_current"] += int((code <= 0).sum())
    counts["negative_bills_clamped"] += int((bill < 0).sum())
    counts["charged_off_rows"] += int((dpd > 180).sum())
    counts["past_due_capped_at_balance"] += int((delinquent & owes & (missed > balance)).sum())
    counts["past_due_raised_to_one_cent"] += int((delinquent & owes & (missed < 1)).sum())
    counts["without_next_due_date"] += int((~owes).sum())
    left = int((delinquent & ~owes).sum())
    counts["delinquent_with_zero_balance"] += left
    counts["by_night"][month.night] = left

    next_due = (month.night + timedelta(days=DUE_DAYS_AFTER_MONTH_END)).isoformat()
    id_text = pd.Series(ids).astype(str).str.zfill(ID_WIDTH)
    return pd.DataFrame({
        "snapshot_date": month.night.isoformat(),
        "account_id": "TW" + id_text,
        "customer_id": "TWC" + id_text,
        "product": PRODUCT,
        "open_date": OPEN_DATE.isoformat(),
        "status": np.where(dpd > 180, "charged_off", "open"),
        "currency": CURRENCY,
        "credit_limit": _money_text(_cents(frame["LIMIT_BAL"])),
        "balance": _money_text(balance),
        "amount_due": _money_text(amount_due),
        "past_due_amount": _money_text(past_due),
        "days_past_due": pd.Series(dpd).astype(str),
        "next_due_date": np.where(owes, next_due, None),
        "payment_amount": _money_text(_cents(frame[month.paid])),
        "last_payment_date": [None] * n,
    }, columns=list(SNAPSHOT_COLUMNS))


def _customers(ids: np.ndarray) -> pd.DataFrame:
    """Placeholder holders: the source has no names or contacts, only an ID."""
    n = len(ids)
    empty = [None] * n
    return pd.DataFrame({
        "customer_id": "TWC" + pd.Series(ids).astype(str).str.zfill(ID_WIDTH),
        "full_name": "Taiwan customer " + pd.Series(ids).astype(str),
        "mobile_phone": empty, "email": empty, "postal_address": empty, "city": empty,
        "region": empty, "postal_code": empty,
        "country": "TW", "preferred_language": "en-US", "timezone": "Asia/Taipei",
    }, columns=list(CUSTOMER_COLUMNS))


def _arrow_table(text: pd.DataFrame) -> pa.Table:
    """Typed parquet columns from the exact text: decimals cast from text, not from floats."""
    arrays = {}
    for name in text.columns:
        values = pa.Array.from_pandas(text[name], type=pa.string())
        if name in MONEY_COLUMNS:
            values = values.cast(pa.decimal128(18, 2))
        elif name in DATE_COLUMNS:
            values = values.cast(pa.date32())
        elif name == "days_past_due":
            values = values.cast(pa.int32())
        arrays[name] = values
    return pa.table(arrays)


def _write(text: pd.DataFrame, path: Path) -> Path:
    """Write under a hidden temporary name, then rename: readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    if path.suffix == ".parquet":
        pq.write_table(_arrow_table(text), temporary)
    else:
        text.to_csv(temporary, index=False, encoding="utf-8", lineterminator="\n", na_rep="")
    if path.exists():
        log.warning("replacing %s", path)
    os.replace(temporary, path)
    return path


def import_taiwan(source: Path, home: Path, *, file_format: str = "csv") -> ImportSummary:
    """Land the UCI Taiwan book as six month-end nights under ``home/landing`` (DOMAIN §7).

    Args:
        source: ``UCI_Credit_Card.csv`` (30,000 accounts, Apr-Sep 2005).
        home: The overdue home; files go to ``home/landing/<feed>/<YYYY-MM-DD>.<format>``.
        file_format: ``"csv"`` or ``"parquet"``.

    Returns:
        Rows and files written, and how often each documented adjustment applied.

    Raises:
        ValueError: The source is not the UCI file's shape, or the format is unknown.
        FileExistsError: A night is already landed in the other format.
    """
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"file_format must be 'csv' or 'parquet', got {file_format!r}")
    source, home = Path(source), Path(home)
    landing = home / "landing"
    other = "parquet" if file_format == "csv" else "csv"
    clashes = [landing / feed / f"{night.isoformat()}.{other}"
               for feed in ("account_snapshots", "customers") for night in NIGHTS]
    clashes = [p for p in clashes if p.exists()]
    if clashes:
        raise FileExistsError(f"already landed as .{other}: {', '.join(map(str, clashes))}")

    columns = ["ID", "LIMIT_BAL"] + [c for m in MONTHS for c in (m.pay_code, m.bill, m.paid)]
    frame = _read_source(source, columns)
    ids = frame["ID"].to_numpy(dtype=np.int64)
    counts: dict = {key: 0 for key in (
        "pay_codes_read_as_current", "negative_bills_clamped", "charged_off_rows",
        "past_due_capped_at_balance", "past_due_raised_to_one_cent", "without_next_due_date",
        "delinquent_with_zero_balance")}
    counts["by_night"] = {}

    files: list[Path] = []
    customers = _customers(ids)
    customer_rows = 0
    for month in MONTHS:
        snapshot = _snapshot_night(frame, month, ids, counts)
        files.append(_write(snapshot, landing / "account_snapshots"
                            / f"{month.night.isoformat()}.{file_format}"))
        tonight = customers if month.night == NIGHTS[0] else customers.iloc[0:0]
        files.append(_write(tonight, landing / "customers"
                            / f"{month.night.isoformat()}.{file_format}"))
        customer_rows += len(tonight)
        log.info("taiwan %s: %d account rows, %d customer rows, %d left for quarantine",
                 month.night, len(snapshot), len(tonight), counts["by_night"][month.night])

    by_night = counts.pop("by_night")
    summary = ImportSummary(
        nights=NIGHTS, accounts=len(ids), snapshot_rows=len(ids) * len(MONTHS),
        customer_rows=customer_rows, files=tuple(files),
        delinquent_with_zero_balance_by_night=by_night, **counts)
    if summary.delinquent_with_zero_balance:
        log.warning("taiwan: %d row(s) are delinquent with nothing owed; written as stated, the"
                    " contract will quarantine them (%s)",
                    summary.delinquent_with_zero_balance, QUARANTINE_RULE)
    return summary


def pay_code_roll_rates(source: Path) -> pd.DataFrame:
    """Month-over-month bucket transitions counted straight from the PAY codes.

    Why: an answer independent of the landing files and of the warehouse, to test the
    pipeline's SQL roll-rate matrices against. Buckets follow DOMAIN §1 from DPD = 30 * k
    (k <= 0 current). Every account is present in every month, so each month pair sums to the
    number of accounts.

    Args:
        source: ``UCI_Credit_Card.csv``.

    Returns:
        One row per observed (month pair, from-bucket, to-bucket), pairs with no account
        omitted: from_date and to_date (``datetime.date`` month ends), from_bucket, to_bucket
        (str), accounts (int64); sorted by date and bucket order M0..M6, WO.
    """
    frame = _read_source(Path(source), ["ID", *PAY_CODE_COLUMNS])
    order = {bucket: i for i, bucket in enumerate(BUCKETS)}
    parts = []
    for before, after in pairwise(MONTHS):
        pair = pd.DataFrame({
            "from_bucket": bucket_of(days_past_due_of(frame[before.pay_code].to_numpy())),
            "to_bucket": bucket_of(days_past_due_of(frame[after.pay_code].to_numpy())),
        })
        counted = pair.groupby(["from_bucket", "to_bucket"]).size().rename("accounts").reset_index()
        counted.insert(0, "to_date", after.night)
        counted.insert(0, "from_date", before.night)
        parts.append(counted)
    result = pd.concat(parts, ignore_index=True)
    result = result.sort_values(
        ["from_date", "from_bucket", "to_bucket"],
        key=lambda s: s.map(order) if s.name != "from_date" else s).reset_index(drop=True)
    result["from_bucket"] = result["from_bucket"].astype(str)
    result["to_bucket"] = result["to_bucket"].astype(str)
    result["accounts"] = result["accounts"].astype(np.int64)
    return result[["from_date", "to_date", "from_bucket", "to_bucket", "accounts"]]
