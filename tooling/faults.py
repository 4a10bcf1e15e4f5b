"""Defects injected into a clean account_snapshots CSV, with a record of each one.

Why: the ingest contracts must catch every class of bad input a lender's export can produce, and
the tests must know exactly which row and column each defect is in. ``inject_faults`` reads a clean
file, breaks it, writes the result and returns one ``InjectedFault`` per defect; the record can be
kept beside the truth with ``write_fault_manifest``.

Row-level classes hit a fraction of the data rows (at least one row when the rate is above 0).
Each faulted row gets exactly one defect and otherwise stays valid, so the rule a checker reports
for a row is unambiguous. The column each class changes:

=========================  ==========================================================================
class                      change (column recorded)
=========================  ==========================================================================
wrong_type                 non-numeric text in credit_limit, amount_due or payment_amount (``12,50``,
                           ``abc``, ``1.234,56``, ``N/A``) or a non-date in next_due_date
                           (``2026-13-45``, ``31/12/2025``, ``2026-02-30``, ``abc``)
null_key                   account_id emptied
duplicate_key              account_id set to another row's; both rows recorded (the copy, its twin)
negative_amount            credit_limit or payment_amount made negative (``-10.00`` when it was 0)
past_due_gt_balance        past_due_amount = balance + 0.01..100.00, on a row with DPD > 0 (a
                           current row, if no delinquent one is left, also gets DPD 30, which keeps
                           the DPD rule intact)
dpd_without_past_due       days_past_due 1..60 on a current row (no past due amount); if none is
                           left, past_due_amount 0.00 on a delinquent row
past_due_without_dpd       days_past_due 0 on a delinquent row; if none is left, a past due amount
                           (up to the balance) on a current row with a balance
future_date                last_payment_date (or open_date when it is empty) 3..30 days after
                           snapshot_date
unknown_status             status ``active``, ``suspended``, ``pending`` or ``dormant``
bad_currency               currency ``RMB``, ``YUAN`` or ``US$``
wrong_snapshot_date_rows   snapshot_date moved 1..3 days later (later, so dates stay <= snapshot)
breakdown_not_summing      past_due_principal 0.01 off (up, or down when it has a cent to give) on a
                           delinquent row with a breakdown, so the four past_due_* parts no longer
                           sum to past_due_amount; if none is left, past_due_principal alone given
                           on a row without a breakdown (a partial breakdown). Needs the format 1.1
                           breakdown columns: a file without them gets no such defect
=========================  ==========================================================================

A class that changes past_due_amount on a row with a breakdown moves past_due_principal by the
same amount (all four parts 0.00 when past_due_amount becomes 0, all four emptied if principal
would fall below 0), so the breakdown rule stays intact and the row keeps exactly one defect.

``extra_column`` is listed with the row-level classes but changes the file's shape: any rate above
0 adds a ``branch_code`` column (allowed by the format and kept), filled on a ``rate`` share of the
rows (at least one) and empty elsewhere, recorded once with ``row_number`` None.

File-level classes fire with probability ``rate`` per file (always when rate >= 1) and are recorded
with ``row_number`` None:

* ``missing_required_column``: one required column dropped, never one a row-level defect uses.
* ``wrong_snapshot_date``: every row's snapshot_date one day later.
* ``truncated_file``: the file cut inside its last data row, with no final newline; row-level
  defects then avoid that row.
* ``gbk_encoding``: the text re-encoded as GBK (GB18030 for characters GBK lacks). A file with no
  non-ASCII text first gets a ``branch_name`` column (``北京分行`` ...) so the bytes really are
  invalid UTF-8.
* ``utf8_bom``: a UTF-8 byte-order mark in front (tolerated by the format). Not applied when
  ``gbk_encoding`` fires too.
* ``empty_file``: zero bytes. When it fires nothing else is applied or recorded.

``row_number`` is the 1-based data row (header excluded) in the target file.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import zlib
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from pipelines.lib.ingest.contracts import load_contract

logger = logging.getLogger(__name__)

ROW_FAULTS: tuple[str, ...] = (
    "wrong_type", "null_key", "duplicate_key", "negative_amount", "past_due_gt_balance",
    "dpd_without_past_due", "past_due_without_dpd", "future_date", "unknown_status",
    "bad_currency", "wrong_snapshot_date_rows", "breakdown_not_summing",
)
FILE_FAULTS: tuple[str, ...] = (
    "extra_column", "missing_required_column", "gbk_encoding", "utf8_bom", "truncated_file",
    "empty_file", "wrong_snapshot_date",
)
FAULT_CLASSES: tuple[str, ...] = (
    "extra_column", "wrong_type", "null_key", "duplicate_key", "negative_amount",
    "past_due_gt_balance", "dpd_without_past_due", "past_due_without_dpd", "future_date",
    "unknown_status", "bad_currency", "wrong_snapshot_date_rows", "breakdown_not_summing",
    "missing_required_column", "gbk_encoding", "utf8_bom", "truncated_file", "empty_file",
    "wrong_snapshot_date",
)
SNAPSHOT_COLUMNS: tuple[str, ...] = tuple(load_contract("account_snapshots").column_names)
# optional columns added after landing format v1: a file may lack them, and dropping one rejects
# nothing, so missing_required_column never picks them
ADDED_OPTIONAL_COLUMNS = (
    "effective_interest_rate", "past_due_principal", "past_due_interest",
    "past_due_penalty_interest", "past_due_fees", "contract_reference", "contract_date",
    "annual_interest_rate", "penalty_interest_rate", "statement_date", "statement_balance",
    "charge_off_date",
)
BREAKDOWN = ("past_due_principal", "past_due_interest", "past_due_penalty_interest",
             "past_due_fees")
UNKNOWN_STATUSES = ("active", "suspended", "pending", "dormant")
BAD_CURRENCIES = ("RMB", "YUAN", "US$")
BAD_NUMBERS = ("12,50", "abc", "1.234,56", "N/A")
BAD_DATES = ("2026-13-45", "31/12/2025", "2026-02-30", "abc")
BRANCH_NAMES = ("北京分行", "上海分行", "广州分行", "深圳分行", "成都分行")
# Most constrained first: they get the rows that fit them before the others take rows at random.
_ASSIGNMENT_ORDER = (
    "past_due_gt_balance", "past_due_without_dpd", "dpd_without_past_due",
    "breakdown_not_summing", "future_date",
    "duplicate_key", "wrong_type", "null_key", "negative_amount", "unknown_status", "bad_currency",
    "wrong_snapshot_date_rows",
)


@dataclass(frozen=True)
class InjectedFault:
    """One defect: where it is (row_number None for the whole file) and what was done."""

    fault_class: str
    row_number: int | None
    column: str | None
    detail: str


def parse_fault_spec(spec: str) -> dict[str, float]:
    """``"null_key=0.001,gbk_encoding=1"`` -> {"null_key": 0.001, "gbk_encoding": 1.0}.

    A class without ``=rate`` means rate 1. Raises ValueError naming an unknown class (and listing
    the valid ones), a bad or negative rate, a row-level rate above 1, or a repeated class.
    """
    rates: dict[str, float] = {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in FAULT_CLASSES:
            raise ValueError(f"unknown fault class {name!r}; valid classes: "
                             + ", ".join(FAULT_CLASSES))
        if name in rates:
            raise ValueError(f"fault class {name!r} given twice")
        try:
            rate = float(value) if value.strip() else 1.0
        except ValueError as exc:
            raise ValueError(f"fault class {name!r}: rate {value.strip()!r} is not a number") \
                from exc
        if not rate >= 0:
            raise ValueError(f"fault class {name!r}: rate must be >= 0, got {rate}")
        if name in ROW_FAULTS and rate > 1:
            raise ValueError(f"fault class {name!r}: a row-level rate is a fraction of rows "
                             f"(0..1), got {rate}")
        rates[name] = rate
    return rates


def inject_faults(source: Path, target: Path, rates: dict[str, float], *,
                  seed: int) -> list[InjectedFault]:
    """Read a clean account_snapshots CSV, inject the defects, write ``target`` (may be ``source``).

    Deterministic for a seed and file name. Returns every defect: row-level ones by row, then the
    file-level ones.
    """
    unknown = sorted(set(rates) - set(FAULT_CLASSES))
    if unknown:
        raise ValueError(f"unknown fault class(es) {unknown}; valid classes: "
                         + ", ".join(FAULT_CLASSES))
    source, target = Path(source), Path(target)
    rng = np.random.default_rng([seed, zlib.crc32(source.name.encode())])
    header, rows = _read(source)
    missing = [c for c in SNAPSHOT_COLUMNS if c not in header and c not in ADDED_OPTIONAL_COLUMNS]
    if missing:
        raise ValueError(f"{source}: not an account_snapshots file, missing {missing}")
    fires = {name: rates.get(name, 0) > 0 and (rates[name] >= 1 or rng.random() < rates[name])
             for name in FILE_FAULTS if name != "extra_column"}
    fires["extra_column"] = rates.get("extra_column", 0) > 0  # its rate is a share of rows
    if fires["empty_file"]:
        target.write_bytes(b"")
        fault = InjectedFault("empty_file", None, None, "file truncated to zero bytes")
        logger.info("%s: injected empty_file", target)
        return [fault]

    column = {name: i for i, name in enumerate(header)}
    reserved = {len(rows) - 1} if fires["truncated_file"] and rows else set()
    faults = _inject_rows(rows, column, rates, rng, reserved)
    file_faults: list[InjectedFault] = []

    if fires["wrong_snapshot_date"]:
        at = column["snapshot_date"]
        for row in rows:
            row[at] = _shift(row[at], 1)
        file_faults.append(InjectedFault("wrong_snapshot_date", None, "snapshot_date",
                                         "every row's snapshot_date moved one day later"))
    if fires["extra_column"]:
        header.append("branch_code")
        share = min(rates["extra_column"], 1.0)
        filled = set(rng.permutation(len(rows))[:max(1, round(share * len(rows)))].tolist()) \
            if rows else set()
        for number, row in enumerate(rows):
            row.append(f"BR{rng.integers(1, 1000):03d}" if number in filled else "")
        file_faults.append(InjectedFault("extra_column", None, "branch_code",
                                         f"column branch_code added, filled on {len(filled)} rows"))
    if fires["missing_required_column"]:
        touched = {f.column for f in faults}
        candidates = [c for c in SNAPSHOT_COLUMNS
                      if c not in touched and c not in ADDED_OPTIONAL_COLUMNS]
        if fires["wrong_snapshot_date"]:
            candidates = [c for c in candidates if c != "snapshot_date"]
        dropped = candidates[int(rng.integers(len(candidates)))] if candidates else None
        if dropped is not None:
            at = header.index(dropped)
            del header[at]
            for row in rows:
                del row[at]
            file_faults.append(InjectedFault("missing_required_column", None, dropped,
                                             f"required column {dropped} removed"))

    text_has_non_ascii = fires["gbk_encoding"] and (
        any(not name.isascii() for name in header)
        or any(not value.isascii() for row in rows for value in row))
    if fires["gbk_encoding"] and not text_has_non_ascii:
        header.append("branch_name")
        for row in rows:
            row.append(BRANCH_NAMES[int(rng.integers(len(BRANCH_NAMES)))])
    text = _format(header, rows)
    if fires["truncated_file"]:
        text, cut = _truncate(text, len(rows))
        file_faults.append(InjectedFault("truncated_file", None, None, cut))
    if fires["gbk_encoding"]:
        try:
            data, codec = text.encode("gbk"), "GBK"
        except UnicodeEncodeError:
            data, codec = text.encode("gb18030"), "GB18030 (characters outside GBK)"
        added = None if text_has_non_ascii else "branch_name"
        file_faults.append(InjectedFault(
            "gbk_encoding", None, added,
            f"file encoded as {codec}" + (", with a branch_name column added" if added else "")))
    else:
        data = text.encode("utf-8")
        if fires["utf8_bom"]:
            data = b"\xef\xbb\xbf" + data
            file_faults.append(InjectedFault("utf8_bom", None, None,
                                             "UTF-8 byte-order mark added at the start"))
    target.write_bytes(data)
    faults.sort(key=lambda f: (f.row_number, f.fault_class))
    result = faults + file_faults
    logger.info("%s: injected %d defects (%s)", target, len(result),
                ", ".join(sorted({f.fault_class for f in result})) or "none")
    return result


def write_fault_manifest(home: Path, feed: str, night: date | str,
                         faults: list[InjectedFault]) -> Path:
    """Keep the record of a night's injected defects beside the truth, for tests and reports."""
    path = _manifest_path(home, feed, night)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"feed": feed, "night": str(night), "faults": [asdict(f) for f in faults]}
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def read_fault_manifest(home: Path, feed: str, night: date | str) -> list[InjectedFault]:
    """The defects injected into a night's file; empty when none were recorded."""
    path = _manifest_path(home, feed, night)
    if not path.exists():
        return []
    document = json.loads(path.read_text(encoding="utf-8"))
    return [InjectedFault(**record) for record in document["faults"]]


def _manifest_path(home: Path, feed: str, night: date | str) -> Path:
    return Path(home) / "truth" / "faults" / feed / f"{night}.json"


# --- helpers ----------------------------------------------------------------------------------

def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    text = path.read_bytes().decode("utf-8-sig")
    records = list(csv.reader(io.StringIO(text, newline="")))
    if not records:
        raise ValueError(f"{path}: empty file, no header")
    return records[0], [r for r in records[1:] if r]


def _format(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _truncate(text: str, n_rows: int) -> tuple[str, str]:
    """Cut inside the last data row, after its third field: fewer fields, no line end."""
    body = text.removesuffix("\n")
    start = body.rfind("\n") + 1
    last = body[start:]
    commas = [i for i, ch in enumerate(last) if ch == ","]
    cut = commas[2] + 3 if len(commas) > 3 else max(1, len(last) // 2)
    cut = min(cut, len(last) - 1) if len(last) > 1 else len(last)
    where = f"data row {n_rows}" if n_rows else "the header"
    return body[:start + cut], f"cut inside {where} after {cut} of {len(last)} characters"


def _amount(text: str) -> Decimal:
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return Decimal(0)


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def _rebalance(row: list[str], column: dict[str, int], old: Decimal, new: Decimal) -> str:
    """Keep a row's breakdown summing to its changed past_due_amount; says what it did."""
    if not all(part in column and row[column[part]] for part in BREAKDOWN):
        return ""
    if new == 0:
        for part in BREAKDOWN:
            row[column[part]] = "0.00"
        return " (breakdown set to 0.00)"
    principal = _amount(row[column["past_due_principal"]]) + new - old
    if principal < 0:
        for part in BREAKDOWN:
            row[column[part]] = ""
        return " (breakdown emptied)"
    row[column["past_due_principal"]] = _money(principal)
    return f" (past_due_principal moved by {_money(new - old)})"


def _shift(text: str, days: int) -> str:
    return (date.fromisoformat(text) + timedelta(days=days)).isoformat()


def _dpd(row: list[str], column: dict[str, int]) -> int:
    try:
        return int(row[column["days_past_due"]])
    except ValueError:
        return 0


def _inject_rows(rows: list[list[str]], column: dict[str, int], rates: dict[str, float],
                 rng: np.random.Generator, reserved: set[int]) -> list[InjectedFault]:
    """Choose disjoint rows per class (constrained classes first) and break each one once."""
    n = len(rows)
    wanted = {name: rates.get(name, 0) for name in ROW_FAULTS if rates.get(name, 0) > 0}
    if not wanted or n == 0:
        return []
    order = [i for i in rng.permutation(n).tolist() if i not in reserved]
    taken: set[int] = set()
    faults: list[InjectedFault] = []

    def delinquent(i):
        return _dpd(rows[i], column) > 0

    def collecting(i):  # delinquent and not yet written off: the plainest row to break
        return delinquent(i) and rows[i][column["status"]] in ("open", "frozen")

    def current(i):
        return _dpd(rows[i], column) == 0 and _amount(rows[i][column["past_due_amount"]]) == 0

    def pick(count: int, *preferences) -> list[tuple[int, int]]:
        """Up to ``count`` free rows, from the first preference that still has some, in order."""
        chosen: list[tuple[int, int]] = []
        for level, accept in enumerate(preferences):
            for i in order:
                if len(chosen) == count:
                    return chosen
                if i not in taken and accept(i):
                    taken.add(i)
                    chosen.append((i, level))
        return chosen

    def record(name: str, i: int, col: str, old: str, new: str, note: str = "") -> None:
        rows[i][column[col]] = new
        if col == "past_due_amount":
            note += _rebalance(rows[i], column, _amount(old), _amount(new))
        faults.append(InjectedFault(name, i + 1, col, f"{col} {old!r} -> {new!r}{note}"))

    has_breakdown_columns = all(part in column for part in BREAKDOWN)

    def itemised(i):
        return has_breakdown_columns and all(rows[i][column[part]] for part in BREAKDOWN)

    def anything(_):
        return True

    for name in _ASSIGNMENT_ORDER:
        if name not in wanted:
            continue
        free = len(order) - len(taken)
        count = min(max(1, round(wanted[name] * n)), free)
        if name == "duplicate_key":
            pairs = min(max(1, round(wanted[name] * n / 2)), free // 2)
            chosen = [i for i, _ in pick(2 * pairs, anything)]
            for copy, twin in zip(chosen[0::2], chosen[1::2], strict=False):
                old, key = rows[copy][column["account_id"]], rows[twin][column["account_id"]]
                record(name, copy, "account_id", old, key, f" (the key of row {twin + 1})")
                faults.append(InjectedFault(name, twin + 1, "account_id",
                                            f"account_id {key!r} also used by row {copy + 1}"))
            continue
        if name == "past_due_gt_balance":
            for i, level in pick(count, collecting, delinquent, anything):
                row = rows[i]
                balance = _amount(row[column["balance"]])
                excess = Decimal(int(rng.integers(1, 10_001))) / 100
                old = row[column["past_due_amount"]]
                if level == 2:  # a current row also becomes 30 days past due: keeps the DPD rule
                    row[column["days_past_due"]] = "30"
                record(name, i, "past_due_amount", old, _money(balance + excess),
                       f" (balance {row[column['balance']]})")
        elif name == "dpd_without_past_due":
            for i, level in pick(count, current, collecting, delinquent):
                if level == 0:
                    record(name, i, "days_past_due", rows[i][column["days_past_due"]],
                           str(int(rng.integers(1, 61))), " (past_due_amount 0)")
                else:
                    record(name, i, "past_due_amount", rows[i][column["past_due_amount"]], "0.00",
                           f" (days_past_due {rows[i][column['days_past_due']]})")
        elif name == "past_due_without_dpd":
            def owes(i):
                return current(i) and _amount(rows[i][column["balance"]]) >= Decimal("0.01")
            for i, level in pick(count, collecting, delinquent, owes):
                if level < 2:
                    record(name, i, "days_past_due", rows[i][column["days_past_due"]], "0",
                           f" (past_due_amount {rows[i][column['past_due_amount']]})")
                else:
                    balance = _amount(rows[i][column["balance"]])
                    owed = max(Decimal("0.01"), (balance / 2).quantize(Decimal("0.01")))
                    record(name, i, "past_due_amount", rows[i][column["past_due_amount"]],
                           _money(owed), " (days_past_due 0)")
        elif name == "breakdown_not_summing":
            if not has_breakdown_columns:
                continue

            def itemised_delinquent(i):
                return delinquent(i) and itemised(i)

            def bare(i):
                return not any(rows[i][column[part]] for part in BREAKDOWN)

            for i, level in pick(count, itemised_delinquent, bare):
                old = rows[i][column["past_due_principal"]]
                total = rows[i][column["past_due_amount"]]
                if level == 0:
                    step = Decimal("-0.01") if _amount(old) >= Decimal("0.01") and \
                        rng.random() < 0.5 else Decimal("0.01")
                    record(name, i, "past_due_principal", old, _money(_amount(old) + step),
                           f" (past_due_amount {total})")
                else:
                    record(name, i, "past_due_principal", old, _money(_amount(total)),
                           " (the other parts empty)")
        elif name == "future_date":
            for i, _ in pick(count, anything):
                snapshot = rows[i][column["snapshot_date"]]
                target = "last_payment_date" if rows[i][column["last_payment_date"]] else \
                    "open_date"
                record(name, i, target, rows[i][column[target]],
                       _shift(snapshot, int(rng.integers(3, 31))), f" (snapshot_date {snapshot})")
        elif name == "wrong_type":
            for i, _ in pick(count, anything):
                target = ("credit_limit", "amount_due", "payment_amount",
                          "next_due_date")[int(rng.integers(4))]
                pool = BAD_DATES if target == "next_due_date" else BAD_NUMBERS
                record(name, i, target, rows[i][column[target]], pool[int(rng.integers(len(pool)))])
        elif name == "null_key":
            for i, _ in pick(count, anything):
                record(name, i, "account_id", rows[i][column["account_id"]], "")
        elif name == "negative_amount":
            for i, _ in pick(count, anything):
                target = ("credit_limit", "payment_amount")[int(rng.integers(2))]
                value = _amount(rows[i][column[target]])
                record(name, i, target, rows[i][column[target]],
                       _money(-abs(value) if value else Decimal(-10)))
        elif name == "unknown_status":
            for i, _ in pick(count, anything):
                record(name, i, "status", rows[i][column["status"]],
                       UNKNOWN_STATUSES[int(rng.integers(len(UNKNOWN_STATUSES)))])
        elif name == "bad_currency":
            for i, _ in pick(count, anything):
                record(name, i, "currency", rows[i][column["currency"]],
                       BAD_CURRENCIES[int(rng.integers(len(BAD_CURRENCIES)))])
        elif name == "wrong_snapshot_date_rows":
            for i, _ in pick(count, anything):
                old = rows[i][column["snapshot_date"]]
                record(name, i, "snapshot_date", old, _shift(old, int(rng.integers(1, 4))))
    return faults
