"""Turning the book's state into files: each night's three landing feeds (CSV with minimal quoting
and exact text, or typed parquet), the customers feed with its new and changed customers, the
contact events with local times, and the truth file. Formatting and writing run on a small thread
pool while the main thread computes the truth; every random draw stays on the main thread.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from models.buckets import BUCKETS
from pipelines.lib.ingest.contracts import load_contract
from tooling.simulator.behaviour import (
    _CHARGED_OFF,
    _OPEN,
    _PENALTY_RATE,
    _PRE_BOOK_DAYS,
    _STATUS_TEXT,
    _date,
    _day,
)
from tooling.simulator.breakdown import annual_rate, past_due_parts
from tooling.simulator.contacts import CHANNELS, EVENT_TYPES
from tooling.simulator.people import CUSTOMER_COLUMNS, TIMEZONES, _generate_people, _People
from tooling.simulator.strings import _digits, _join, _pick

if TYPE_CHECKING:
    from tooling.simulator.accounts import _Book
    from tooling.simulator.truth import _Truth

SNAPSHOT_COLUMNS: tuple[str, ...] = tuple(load_contract("account_snapshots").column_names)
CONTACT_COLUMNS: tuple[str, ...] = (
    "event_id", "event_time", "customer_id", "account_id", "event_type", "channel", "amount",
    "until_date",
)
TRUTH_COLUMNS: tuple[str, ...] = (
    "snapshot_date", "account_id", "latent_risk", "true_roll_forward_probability", "bucket",
)
FEEDS: tuple[str, ...] = ("account_snapshots", "customers", "contact_events")


class _Writer:
    """Reads the book (and its truth) each night and writes what the lender's systems would drop."""

    def __init__(self, book: _Book, truth: _Truth, home: Path, file_format: str,
                 pool: ThreadPoolExecutor):
        """Ids and a date-to-text table, built once for speed; starts the first customers file.

        The first night's customers file only needs who has opened an account by then, so it is
        written on the pool, in the background, while the book is seasoned.
        """
        self.book, self.truth = book, truth
        self.home, self.file_format, self.pool = home, file_format, pool
        self.account_ids = _join("AC", _digits(np.arange(1, book.n_accounts + 1), 8))
        self.customer_ids = _join("CU", _digits(np.arange(1, book.n_customers + 1), 7))
        self.overrides: dict[int, dict[str, str | None]] = {}
        self.day_base = book.start - _PRE_BOOK_DAYS - 1200
        span = np.arange(self.day_base, book.end + 400, dtype=np.int32)
        self.day_text = pc.cast(pa.array(span).cast(pa.date32()), pa.string())
        # agreement numbers: XH-<open year>-<10 digits> (CNY) / GL-... (USD), the digits a
        # bijection of the account number (2654435761 is prime to 10**10), so unique
        open_year = pc.utf8_slice_codeunits(
            self.day_text.take(pa.array(book.open_day - self.day_base)), 0, 4)
        scrambled = (np.arange(1, book.n_accounts + 1, dtype=np.int64) * 2_654_435_761) % 10**10
        self.contract_refs = _join(_pick(("XH-", "GL-"), book.is_us.astype(np.int64)), open_year,
                                   "-", _digits(scrambled, 10))
        self.annual_rates = pc.cast(pa.array(annual_rate(book, slice(None))), pa.string())
        self.accounts_seen = np.zeros(book.n_accounts, bool)
        self.customers_written = np.zeros(book.n_customers, bool)
        self._people: _People | None = None
        first_night = np.zeros(book.n_customers, bool)
        first_night[book.customer[book.open_day <= book.start]] = True
        self._first_customers = np.flatnonzero(first_night)
        stem = home / "landing" / "customers" / _date(book.start).isoformat()
        self._first_customers_file = pool.submit(self._write_first_customers, stem, file_format)

    def _write_first_customers(self, stem: Path, file_format: str) -> Path:
        """Runs on a worker thread: the first night's customers file, from the built table."""
        _, table = self.book.people_future.result()
        rows = self._first_customers
        first = table.slice(0, len(rows)) if rows[-1:].tolist() in ([], [len(rows) - 1]) else \
            table.take(pa.array(rows))  # customer ids follow first opening: usually a prefix
        return self._write(stem, self._customer_columns(first), file_format)

    def people(self) -> _People:
        """Customers' text, waiting for the background build the first time."""
        if self._people is None:
            self._people, self.customer_table = self.book.people_future.result()
            self.timezone = self._people.timezone.copy()
        return self._people

    @staticmethod
    def _customer_columns(table: pa.Table) -> dict[str, tuple[str, object]]:
        free_text = ("postal_address",)  # the only generated text with commas and quotes
        return {name: ("str" if name in free_text else "key", table.column(name).combine_chunks())
                for name in CUSTOMER_COLUMNS}

    def _customer_changes(self) -> np.ndarray:
        """A few existing customers move house or change their mobile number each night."""
        rng = self.book.rng_people
        written = np.flatnonzero(self.customers_written)
        changing = written[rng.random(len(written)) < 3e-4]
        if len(changing) == 0:
            return changing
        fresh = _generate_people(rng, self.book.cust_us[changing])
        moves = rng.random(len(changing)) < 0.7
        address = ("postal_address", "city", "region", "postal_code", "timezone")
        for i, customer in enumerate(changing.tolist()):
            override = self.overrides.setdefault(customer, {})
            names = address if moves[i] else ("mobile_phone",)
            for name in names:
                override[name] = fresh.columns[name][i].as_py()
            if moves[i]:
                self.timezone[customer] = fresh.timezone[i]
        return changing

    def write_night(self, night: date) -> dict[str, tuple[Path, int]]:
        """Write the night's three landing files and its truth; returns paths and row counts.

        Text formatting and file writing run on a small thread pool (Arrow releases the GIL) while
        this thread computes the truth; every random draw stays on this thread, in order.
        """
        book, home, file_format, pool = self.book, self.home, self.file_format, self.pool
        t = _day(night)
        idx = np.flatnonzero((book.status >= _OPEN) & (book.status <= _CHARGED_OFF)
                             & (book.open_day <= t))
        self.accounts_seen[idx] = True
        n = len(idx)
        status = book.status[idx]
        dpd = book.days_past_due(idx, t)
        snapshot = {
            "snapshot_date": ("date", np.full(n, t, np.int64)),
            "account_id": ("key", self.account_ids.take(pa.array(idx))),
            "customer_id": ("key", self.customer_ids.take(pa.array(book.customer[idx]))),
            "product": ("key", _pick(("revolving", "installment"),
                                     book.installment[idx].astype(np.int64))),
            "open_date": ("date", book.open_day[idx]),
            "status": ("key", _pick(_STATUS_TEXT, status.astype(np.int64))),
            "currency": ("key", _pick(("CNY", "USD"), book.is_us[idx].astype(np.int64))),
            "credit_limit": ("money", book.credit_limit[idx]),
            "balance": ("money", book.balance[idx]),
            "amount_due": ("money", book.amount_due[idx]),
            "past_due_amount": ("money", book.past_due[idx]),
            "days_past_due": ("int", dpd),
            # instalment loans carry their contract rate; cards leave it empty (the report then
            # uses the rate configured for the product)
            "effective_interest_rate": ("key", pc.cast(pa.array(
                np.round(book.apr[idx], 4), mask=~book.installment[idx]), pa.string())),
            "next_due_date": ("date", book.next_due(idx, t)),
            "payment_amount": ("money", book.payment_today[idx]),
            "last_payment_date": ("date", book.last_payment_day[idx]),
            # the breakdown only where something is past due (all four empty elsewhere)
            **{name: ("money", (cents, book.past_due[idx] == 0))
               for name, cents in past_due_parts(book, idx, t).items()},
            "contract_reference": ("key", self.contract_refs.take(pa.array(idx))),
            "contract_date": ("date", book.open_day[idx]),
            "annual_interest_rate": ("key", self.annual_rates.take(pa.array(idx))),
            "penalty_interest_rate": ("key", pa.repeat(pa.scalar(str(_PENALTY_RATE)), n)),
            "statement_date": ("date", book.last_statement_day[idx]),
            "statement_balance": ("money", (book.last_statement_balance[idx],
                                            book.last_statement_day[idx] < 0)),
            "charge_off_date": ("date", np.where(status == _CHARGED_OFF, book.charge_off_day[idx],
                                                 -1)),
        }
        pending: dict[str, tuple[Future, int]] = {}
        landing = home / "landing"
        pending["account_snapshots"] = (
            pool.submit(self._write, landing / "account_snapshots" / night.isoformat(), snapshot,
                        file_format), n)

        # customers: everyone on the first night (written in the background), then new and
        # changed customers
        if t == book.start:
            self.customers_written[self._first_customers] = True
            pending["customers"] = (self._first_customers_file, len(self._first_customers))
        else:
            self.people()
            holding = np.zeros(book.n_customers, bool)
            holding[book.customer[idx]] = True
            changed = self._customer_changes()  # among customers written on earlier nights
            wanted = holding & ~self.customers_written
            self.customers_written[wanted] = True
            wanted[changed] = True
            rows = np.flatnonzero(wanted)
            table = self.customer_table.take(pa.array(rows, pa.int64()))
            if any(int(c) in self.overrides for c in rows):
                records = table.to_pylist()
                for record, customer in zip(records, rows.tolist(), strict=True):
                    record.update(self.overrides.get(customer, {}))
                table = pa.Table.from_pylist(records, schema=self.customer_table.schema)
            pending["customers"] = (
                pool.submit(self._write, landing / "customers" / night.isoformat(),
                            self._customer_columns(table), file_format), len(rows))

        probability, bucket = self.truth.roll_forward(idx, night)
        truth = pa.table({
            "snapshot_date": pa.array(np.full(n, t, np.int32)).cast(pa.date32()),
            "account_id": self.account_ids.take(pa.array(idx)),
            "latent_risk": pa.array(book.risk(idx), pa.float64()),
            "true_roll_forward_probability": pa.array(probability, pa.float64()),
            "bucket": _pick(BUCKETS, bucket.astype(np.int64)),
        })
        truth_path = home / "truth" / f"{night.isoformat()}.parquet"
        pq.write_table(truth, truth_path)
        events = self._event_columns(night)
        pending["contact_events"] = (
            _Done(self._write(landing / "contact_events" / night.isoformat(), events,
                        file_format)), len(events["event_id"][1]))

        written = {name: (future.result(), count) for name, (future, count) in pending.items()}
        written["truth"] = (truth_path, n)
        return written

    def _event_columns(self, night: date) -> dict[str, tuple[str, object]]:
        """The night's contact events, sorted by instant, with local times and offsets."""
        t = _day(night)
        parts = self.book.events
        get = lambda key: np.concatenate([p[key] for p in parts]) if parts else \
            np.zeros(0, np.int64)
        customer, account, kind = get("customer"), get("account"), get("type")
        channel, second, amount, until = get("channel"), get("second"), get("amount"), get("until")
        self.people()
        noon = datetime(night.year, night.month, night.day, 12)
        offsets = np.array([int(ZoneInfo(zone).utcoffset(noon).total_seconds()) for zone in TIMEZONES])
        offset_text = [f"{'+' if s >= 0 else '-'}{abs(s) // 3600:02d}:{abs(s) % 3600 // 60:02d}"
                       for s in offsets]
        zone = self.timezone[customer].astype(np.int64)
        instant = t * 86_400 + second - offsets[zone]
        order = np.lexsort((account, kind, customer, instant))
        customer, account, kind, channel, second, amount, until, zone, instant = (
            a[order] for a in (customer, account, kind, channel, second, amount, until, zone,
                               instant))
        n = len(customer)
        stamp = night.strftime("%Y%m%d")
        local = _join(night.isoformat(), "T", _digits(second // 3600, 2), ":",
                      _digits(second % 3600 // 60, 2), ":", _digits(second % 60, 2),
                      _pick(offset_text, zone))
        no_account = account < 0
        return {
            "event_id": ("key", _join(f"EV{stamp}", _digits(np.arange(1, n + 1), 7))),
            "event_time": ("time", (local, instant)),
            "customer_id": ("key", self.customer_ids.take(pa.array(customer))),
            "account_id": ("key", self.account_ids.take(pa.array(np.where(no_account, 0, account),
                                                                 mask=no_account))),
            "event_type": ("key", _pick(EVENT_TYPES, kind)),
            "channel": ("key", _pick(CHANNELS, np.maximum(channel, 0)).take(pa.array(
                np.arange(n), mask=channel < 0))),
            "amount": ("money", (amount, amount < 0)),
            "until_date": ("date", until),
        }

    def _write(self, stem: Path, columns: dict[str, tuple[str, object]], file_format: str) -> Path:
        """One landing file, CSV (minimal quoting, exact text) or typed parquet."""
        if file_format == "parquet":
            path = stem.with_suffix(".parquet")
            table = pa.table({name: self._typed(kind, value)
                              for name, (kind, value) in columns.items()})
            pq.write_table(table, path)
            return path
        path = stem.with_suffix(".csv")
        first = next(iter(columns.values()))[1]
        rows = len(first[0] if isinstance(first, tuple) else first)
        with path.open("wb") as handle:
            handle.write((",".join(columns) + "\n").encode())
            # in slices: small buffers are reused, fresh 100 MB ones cost page faults
            for start in range(0, rows, _CSV_CHUNK):
                stop = min(start + _CSV_CHUNK, rows)
                text = [self._text(kind, _slice(value, start, stop))
                        for kind, value in columns.values()]
                lines = pc.binary_join_element_wise(*text, ",", null_handling="replace",
                                                    null_replacement="")
                lines = pc.binary_join_element_wise(lines, "\n", "")
                offsets = np.frombuffer(lines.buffers()[1], np.int32)[lines.offset:]
                body = lines.buffers()[2]
                handle.write(memoryview(body.slice(int(offsets[0]),
                                                   int(offsets[len(lines)] - offsets[0]))))
        return path

    def _text(self, kind: str, value) -> pa.Array:
        if kind == "date":
            days = np.asarray(value)
            return self.day_text.take(pa.array(np.where(days < 0, 0, days - self.day_base),
                                               mask=days < 0))
        if kind == "money":
            cents, mask = value if isinstance(value, tuple) else (value, None)
            cents = np.asarray(cents, np.int64)
            mask = np.zeros(len(cents), bool) if mask is None else mask
            nonzero = (cents != 0) & ~mask
            formatted = pc.cast(_decimal(cents[nonzero]), pa.string())
            pool = pa.concat_arrays([pa.array(["0.00"]), formatted])
            index = np.zeros(len(cents), np.int64)
            index[nonzero] = np.arange(1, int(nonzero.sum()) + 1)
            return pool.take(pa.array(index, mask=mask))
        if kind == "int":
            return pc.cast(pa.array(np.asarray(value, np.int64)), pa.string())
        if kind == "time":
            return value[0]
        if kind == "key":  # identifiers and codes we generate: never need quoting
            return value
        return _quoted(value)

    @staticmethod
    def _typed(kind: str, value) -> pa.Array:
        if kind == "date":
            days = np.asarray(value)
            return pa.array(days.astype(np.int32), mask=days < 0).cast(pa.date32())
        if kind == "money":
            cents, mask = value if isinstance(value, tuple) else (value, None)
            return _decimal(np.asarray(cents, np.int64), mask)
        if kind == "int":
            return pa.array(np.asarray(value, np.int32))
        if kind == "time":  # ISO 8601 text with the customer's offset, as in the CSV: a parquet
            return value[0]  # timestamp would keep only the UTC instant
        return value


class _Done:
    """An already computed result that looks like a future."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


_CSV_CHUNK = 1 << 17


def _slice(value, start: int, stop: int):
    """Rows start..stop of a column value: numpy array, Arrow array, or a tuple of them."""
    if isinstance(value, tuple):
        return tuple(_slice(v, start, stop) for v in value)
    if value is None:
        return None
    if isinstance(value, pa.Array):
        return value.slice(start, stop - start)
    return value[start:stop]


def _decimal(cents: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """decimal128(18,2) straight from integer cents: exact, and no float formatting."""
    n = len(cents)
    words = np.empty(2 * n, np.int64)
    words[0::2] = cents
    words[1::2] = cents >> 63
    validity = None
    null_count = 0
    if mask is not None and mask.any():
        validity = pa.array(~mask).buffers()[1]
        null_count = int(mask.sum())
    return pa.Array.from_buffers(pa.decimal128(18, 2), n, [validity, pa.py_buffer(words)],
                                 null_count=null_count)


def _quoted(values: pa.Array) -> pa.Array:
    """CSV minimal quoting: only values with a comma, quote or line break are quoted."""
    if len(values) == 0:
        return values
    needs = pc.match_substring(values, ",")
    for special in ('"', "\n", "\r"):
        needs = pc.or_(needs, pc.match_substring(values, special))
    rows = np.flatnonzero(pc.fill_null(needs, False).to_numpy(zero_copy_only=False))
    if len(rows) == 0:
        return values
    quoted = _join('"', pc.replace_substring(values.take(pa.array(rows)), '"', '""'), '"')
    index = np.arange(len(values))
    index[rows] = len(values) + np.arange(len(rows))
    return pa.concat_arrays([values, quoted]).take(pa.array(index))
