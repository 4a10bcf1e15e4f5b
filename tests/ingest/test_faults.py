"""Every fault class produces its documented defect, exactly where the record says."""

from __future__ import annotations

import csv
import io
import re
import shutil
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from tooling.faults import (
    FAULT_CLASSES,
    FILE_FAULTS,
    ROW_FAULTS,
    SNAPSHOT_COLUMNS,
    InjectedFault,
    inject_faults,
    parse_fault_spec,
    read_fault_manifest,
    write_fault_manifest,
)
from tooling.simulator import simulate

NIGHT = date(2026, 5, 3)
AMOUNTS = ("credit_limit", "balance", "amount_due", "past_due_amount", "payment_amount")
BREAKDOWN = ("past_due_principal", "past_due_interest", "past_due_penalty_interest",
             "past_due_fees")
STATUSES = {"open", "closed", "frozen", "charged_off"}


@pytest.fixture(scope="module")
def clean_file(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("faults_book")
    simulate(home, accounts=1_500, days=2, end_date=NIGHT, seed=21)
    return home / "landing" / "account_snapshots" / f"{NIGHT}.csv"


@pytest.fixture
def source(clean_file, tmp_path) -> Path:
    path = tmp_path / f"{NIGHT}.csv"
    shutil.copy(clean_file, path)
    return path


def _rows(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[dict[str, str]]]:
    text = path.read_bytes().decode(encoding)
    records = list(csv.reader(io.StringIO(text, newline="")))
    header = records[0]
    return header, [dict(zip(header, r, strict=False)) for r in records[1:] if r]


def _number(text: str) -> Decimal | None:
    if not re.fullmatch(r"-?\d+(\.\d+)?", text or ""):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        return None


def row_defects(row: dict[str, str], night: date) -> set[str]:
    """An independent reading of the DOMAIN §7 row rules: which ones a row breaks."""
    found = set()
    amounts = {c: _number(row[c]) for c in AMOUNTS}
    dpd = row["days_past_due"]
    dates = {c: _day(row[c]) for c in ("snapshot_date", "open_date", "next_due_date",
                                       "last_payment_date")}
    if any(v is None for v in amounts.values()) or not re.fullmatch(r"\d+", dpd) or \
            any(dates[c] is None for c in ("snapshot_date", "open_date")) or \
            any(row[c] and dates[c] is None for c in ("next_due_date", "last_payment_date")):
        found.add("wrong_type")
    if not row["account_id"]:
        found.add("null_key")
    if any(v is not None and v < 0 for v in amounts.values()):
        found.add("negative_amount")
    past_due, balance = amounts["past_due_amount"], amounts["balance"]
    if past_due is not None and balance is not None and past_due > balance:
        found.add("past_due_gt_balance")
    if re.fullmatch(r"\d+", dpd) and past_due is not None:
        if int(dpd) > 0 and past_due == 0:
            found.add("dpd_without_past_due")
        if int(dpd) == 0 and past_due > 0:
            found.add("past_due_without_dpd")
    snapshot = dates["snapshot_date"]
    if snapshot is not None and any(dates[c] is not None and dates[c] > snapshot
                                    for c in ("open_date", "last_payment_date")):
        found.add("future_date")
    if row["status"] not in STATUSES:
        found.add("unknown_status")
    if row["currency"] not in {"CNY", "USD"}:
        found.add("bad_currency")
    parts = [row.get(c, "") for c in BREAKDOWN]
    if any(parts) and past_due is not None and (
            not all(parts) or sum(_number(p) or Decimal(0) for p in parts) != past_due):
        found.add("breakdown_not_summing")
    if row["snapshot_date"] != night.isoformat():
        found.add("wrong_snapshot_date_rows")
    return found


def file_defects(rows: list[dict[str, str]], night: date) -> dict[int, set[str]]:
    """Row number -> rules broken, including duplicate keys across rows."""
    keys: dict[str, int] = {}
    for row in rows:
        if row["account_id"]:
            keys[row["account_id"]] = keys.get(row["account_id"], 0) + 1
    result = {}
    for number, row in enumerate(rows, start=1):
        defects = row_defects(row, night)
        if row["account_id"] and keys[row["account_id"]] > 1:
            defects.add("duplicate_key")
        if defects:
            result[number] = defects
    return result


def test_the_clean_file_breaks_no_rule(clean_file):
    _, rows = _rows(clean_file)
    assert len(rows) > 1_000
    assert file_defects(rows, NIGHT) == {}


def test_fault_classes_are_the_documented_ones():
    assert FAULT_CLASSES == (
        "extra_column", "wrong_type", "null_key", "duplicate_key", "negative_amount",
        "past_due_gt_balance", "dpd_without_past_due", "past_due_without_dpd", "future_date",
        "unknown_status", "bad_currency", "wrong_snapshot_date_rows", "breakdown_not_summing",
        "missing_required_column", "gbk_encoding", "utf8_bom", "truncated_file", "empty_file",
        "wrong_snapshot_date")
    assert set(ROW_FAULTS) | set(FILE_FAULTS) == set(FAULT_CLASSES)
    assert not set(ROW_FAULTS) & set(FILE_FAULTS)


def _check_row_faults(source: Path, target: Path, faults: list[InjectedFault]) -> None:
    """Faulted rows break exactly their recorded rule, in the recorded column; others none."""
    _, before = _rows(source)
    _, after = _rows(target)
    assert len(before) == len(after)
    found = file_defects(after, NIGHT)
    recorded: dict[int, InjectedFault] = {}
    for fault in faults:
        if fault.row_number is None:
            continue
        assert fault.row_number not in recorded, "one defect per row"
        recorded[fault.row_number] = fault
    assert set(found) == set(recorded)
    for number, fault in recorded.items():
        assert found[number] == {fault.fault_class}, (fault, found[number])
        changed = {c for c in before[number - 1] if before[number - 1][c] != after[number - 1][c]}
        allowed = {fault.column} | ({"days_past_due"} if fault.fault_class ==
                                    "past_due_gt_balance" else set())
        if fault.column == "past_due_amount":  # the breakdown follows it, to keep one defect
            allowed |= set(BREAKDOWN)
        assert changed <= allowed, (fault, changed)
        twin = fault.fault_class == "duplicate_key" and not changed
        assert fault.column in changed or twin, fault
    if any(f.fault_class == "duplicate_key" for f in faults):
        copies = [f for f in faults if f.fault_class == "duplicate_key"]
        assert len(copies) % 2 == 0 and len(copies) >= 2


@pytest.mark.parametrize("fault_class", ROW_FAULTS)
def test_each_row_fault_alone(source, tmp_path, fault_class):
    target = tmp_path / "out" / f"{NIGHT}.csv"
    target.parent.mkdir()
    faults = inject_faults(source, target, {fault_class: 1e-9}, seed=1)
    expected = 2 if fault_class == "duplicate_key" else 1
    assert len(faults) == expected, "a tiny rate still breaks at least one row"
    assert {f.fault_class for f in faults} == {fault_class}
    _check_row_faults(source, target, faults)
    more = inject_faults(source, target, {fault_class: 0.01}, seed=1)
    _, rows = _rows(source)
    assert len(more) >= round(0.01 * len(rows)) - 1
    _check_row_faults(source, target, more)


def test_all_row_faults_together_hit_disjoint_rows(source, tmp_path):
    target = tmp_path / "out.csv"
    rates = dict.fromkeys(ROW_FAULTS, 0.02)
    faults = inject_faults(source, target, rates, seed=7)
    assert {f.fault_class for f in faults} == set(ROW_FAULTS)
    numbers = [f.row_number for f in faults]
    assert len(numbers) == len(set(numbers))
    assert numbers == sorted(numbers)
    _check_row_faults(source, target, faults)
    by_class = {c: [f for f in faults if f.fault_class == c] for c in ROW_FAULTS}
    assert {f.column for f in by_class["wrong_type"]} <= {"credit_limit", "amount_due",
                                                         "payment_amount", "next_due_date"}
    assert {f.column for f in by_class["negative_amount"]} <= {"credit_limit", "payment_amount"}
    assert {f.column for f in by_class["future_date"]} <= {"last_payment_date", "open_date"}
    for fault_class, column in (("null_key", "account_id"), ("duplicate_key", "account_id"),
                                ("unknown_status", "status"), ("bad_currency", "currency"),
                                ("wrong_snapshot_date_rows", "snapshot_date"),
                                ("past_due_gt_balance", "past_due_amount"),
                                ("breakdown_not_summing", "past_due_principal")):
        assert {f.column for f in by_class[fault_class]} == {column}
    _, rows = _rows(target)
    assert {rows[f.row_number - 1]["status"] for f in by_class["unknown_status"]} <= \
        {"active", "suspended", "pending", "dormant"}
    assert {rows[f.row_number - 1]["currency"] for f in by_class["bad_currency"]} <= \
        {"RMB", "YUAN", "US$"}
    raw = target.read_text(encoding="utf-8")
    if any(rows[f.row_number - 1][f.column] == "12,50" for f in by_class["wrong_type"]):
        assert '"12,50"' in raw


def _write(path: Path, rows: list[dict[str, str]], columns) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _hand_row(number: int, dpd: int = 0, **overrides) -> dict[str, str]:
    row = {
        "snapshot_date": NIGHT.isoformat(), "account_id": f"AC{number:08d}",
        "customer_id": f"CU{number:07d}", "product": "revolving", "open_date": "2025-01-15",
        "status": "open", "currency": "CNY", "credit_limit": "10000.00", "balance": "2500.50",
        "amount_due": "250.00", "past_due_amount": "300.00" if dpd else "0.00",
        "days_past_due": str(dpd), "next_due_date": "2026-05-20", "payment_amount": "0.00",
        "last_payment_date": "",
    }
    row.update(overrides)
    return row


def test_fallbacks_when_no_row_of_the_preferred_kind_is_left(tmp_path):
    """All-current and all-delinquent files, columns reordered, an extra column kept."""
    columns = list(reversed(SNAPSHOT_COLUMNS)) + ["note"]
    current = _write(tmp_path / "current.csv",
                     [_hand_row(i, note="x") for i in range(1, 9)], columns)
    faults = inject_faults(current, tmp_path / "current_out.csv",
                           {"past_due_gt_balance": 0.1, "past_due_without_dpd": 0.1,
                            "future_date": 0.1}, seed=2)
    assert {f.fault_class for f in faults} == {"past_due_gt_balance", "past_due_without_dpd",
                                                "future_date"}
    assert {f.column for f in faults if f.fault_class == "past_due_without_dpd"} == \
        {"past_due_amount"}
    assert {f.column for f in faults if f.fault_class == "future_date"} == {"open_date"}
    _check_row_faults(current, tmp_path / "current_out.csv", faults)
    header, _ = _rows(tmp_path / "current_out.csv")
    assert header == columns
    behind = _write(tmp_path / "behind.csv",
                    [_hand_row(i, dpd=12, note="y") for i in range(1, 9)], columns)
    faults = inject_faults(behind, tmp_path / "behind_out.csv", {"dpd_without_past_due": 0.1},
                           seed=2)
    assert [f.column for f in faults] == ["past_due_amount"]
    _check_row_faults(behind, tmp_path / "behind_out.csv", faults)


def test_empty_file_wins_over_everything(source):
    faults = inject_faults(source, source, {"empty_file": 1, "null_key": 0.5, "utf8_bom": 1},
                           seed=3)
    assert faults == [InjectedFault("empty_file", None, None, "file truncated to zero bytes")]
    assert source.read_bytes() == b""


def test_gbk_encoding_makes_invalid_utf8(source, tmp_path):
    target = tmp_path / "gbk.csv"
    faults = inject_faults(source, target, {"gbk_encoding": 1, "utf8_bom": 1}, seed=3)
    assert [(f.fault_class, f.row_number, f.column) for f in faults] == \
        [("gbk_encoding", None, "branch_name")]
    data = target.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    header, rows = _rows(target, "gbk")
    assert header[-1] == "branch_name" and header[:-1] == list(SNAPSHOT_COLUMNS)
    assert all(r["branch_name"].endswith("分行") for r in rows)
    # a file that already has non-ASCII text is only re-encoded
    chinese = _write(tmp_path / "zh.csv", [_hand_row(1, product="循环贷")], SNAPSHOT_COLUMNS)
    faults = inject_faults(chinese, chinese, {"gbk_encoding": 1}, seed=3)
    assert faults[0].column is None
    assert _rows(chinese, "gbk")[1][0]["product"] == "循环贷"


def test_utf8_bom(source, tmp_path):
    target = tmp_path / "bom.csv"
    faults = inject_faults(source, target, {"utf8_bom": 1}, seed=3)
    assert [f.fault_class for f in faults] == ["utf8_bom"]
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data[3:] == source.read_bytes()


def test_truncated_file_cuts_the_last_row_and_spares_it_from_row_faults(source, tmp_path):
    target = tmp_path / "cut.csv"
    faults = inject_faults(source, target, {"truncated_file": 1, "null_key": 0.3}, seed=4)
    assert faults[-1].fault_class == "truncated_file" and faults[-1].row_number is None
    text = target.read_text(encoding="utf-8")
    assert not text.endswith("\n")
    lines = text.split("\n")
    header = lines[0].split(",")
    assert 1 < len(lines[-1].split(",")) < len(header)
    n_rows = len(lines) - 1
    assert n_rows == len(_rows(source)[1])
    assert all(f.row_number < n_rows for f in faults if f.row_number is not None)


def test_missing_required_column_never_drops_a_faulted_column(source, tmp_path):
    target = tmp_path / "missing.csv"
    rates = dict.fromkeys(ROW_FAULTS, 0.005) | {"missing_required_column": 1}
    faults = inject_faults(source, target, rates, seed=5)
    dropped = [f for f in faults if f.fault_class == "missing_required_column"]
    assert len(dropped) == 1 and dropped[0].row_number is None
    header, rows = _rows(target)
    assert dropped[0].column not in header
    assert set(header) == set(SNAPSHOT_COLUMNS) - {dropped[0].column}
    assert dropped[0].column not in {f.column for f in faults if f.row_number is not None}
    assert all(len(r) == len(header) for r in rows)


def test_wrong_snapshot_date_shifts_every_row(source, tmp_path):
    target = tmp_path / "shifted.csv"
    faults = inject_faults(source, target, {"wrong_snapshot_date": 1}, seed=6)
    assert [(f.fault_class, f.row_number, f.column) for f in faults] == \
        [("wrong_snapshot_date", None, "snapshot_date")]
    _, rows = _rows(target)
    assert {r["snapshot_date"] for r in rows} == {(NIGHT + timedelta(days=1)).isoformat()}
    shifted = [row_defects(r, NIGHT + timedelta(days=1)) for r in rows]
    assert not any(shifted), "moving the date later breaks no other rule"


def test_extra_column_is_added_and_recorded(source, tmp_path):
    target = tmp_path / "extra.csv"
    faults = inject_faults(source, target, {"extra_column": 0.1}, seed=6)
    assert [(f.fault_class, f.row_number, f.column) for f in faults] == \
        [("extra_column", None, "branch_code")]
    header, rows = _rows(target)
    assert header == list(SNAPSHOT_COLUMNS) + ["branch_code"]
    filled = [r["branch_code"] for r in rows if r["branch_code"]]
    assert len(filled) == round(0.1 * len(rows))
    assert all(re.fullmatch(r"BR\d{3}", v) for v in filled)


def test_file_fault_rate_is_a_probability(source, tmp_path):
    fired = 0
    for seed in range(40):
        faults = inject_faults(source, tmp_path / "p.csv", {"utf8_bom": 0.5}, seed=seed)
        fired += bool(faults)
    assert 8 < fired < 32
    assert inject_faults(source, tmp_path / "p.csv", {"utf8_bom": 0}, seed=1) == []


def test_deterministic_and_in_place(source, tmp_path):
    rates = dict.fromkeys(ROW_FAULTS, 0.01) | {"extra_column": 0.05, "utf8_bom": 1}
    a = inject_faults(source, tmp_path / "a.csv", rates, seed=9)
    b = inject_faults(source, tmp_path / "b.csv", rates, seed=9)
    c = inject_faults(source, tmp_path / "c.csv", rates, seed=10)
    assert a == b and (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert a != c
    in_place = inject_faults(source, source, rates, seed=9)
    assert in_place == a and source.read_bytes() == (tmp_path / "a.csv").read_bytes()


def test_not_a_snapshot_file(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing"):
        inject_faults(path, path, {"null_key": 0.1}, seed=1)
    with pytest.raises(ValueError, match="unknown fault class"):
        inject_faults(path, path, {"nonsense": 0.1}, seed=1)


def test_parse_fault_spec():
    assert parse_fault_spec("null_key=0.001,gbk_encoding=1") == {"null_key": 0.001,
                                                                 "gbk_encoding": 1.0}
    assert parse_fault_spec(" utf8_bom , duplicate_key = 0.5 ") == {"utf8_bom": 1.0,
                                                                    "duplicate_key": 0.5}
    assert parse_fault_spec("") == {}
    with pytest.raises(ValueError) as error:
        parse_fault_spec("null_key=0.1,bogus_fault=1")
    assert "bogus_fault" in str(error.value)
    assert all(name in str(error.value) for name in FAULT_CLASSES)
    for bad in ("null_key=abc", "null_key=-0.1", "null_key=1.5", "null_key=0.1,null_key=0.2"):
        with pytest.raises(ValueError):
            parse_fault_spec(bad)
    assert parse_fault_spec("truncated_file=3") == {"truncated_file": 3.0}


def test_fault_manifest_round_trip(tmp_path):
    faults = [InjectedFault("null_key", 3, "account_id", "account_id 'AC1' -> ''"),
              InjectedFault("gbk_encoding", None, "branch_name", "北京分行 added")]
    path = write_fault_manifest(tmp_path, "account_snapshots", NIGHT, faults)
    assert path == tmp_path / "truth" / "faults" / "account_snapshots" / f"{NIGHT}.json"
    assert read_fault_manifest(tmp_path, "account_snapshots", NIGHT) == faults
    assert read_fault_manifest(tmp_path, "account_snapshots", "2026-05-03") == faults
    assert read_fault_manifest(tmp_path, "account_snapshots", date(2026, 5, 4)) == []


def test_breakdown_fault_needs_the_breakdown_columns_and_falls_back_to_a_partial_one(tmp_path):
    v1 = [c for c in SNAPSHOT_COLUMNS if c not in BREAKDOWN]
    plain = _write(tmp_path / "v1.csv", [_hand_row(i, dpd=12) for i in range(1, 5)], v1)
    assert inject_faults(plain, tmp_path / "v1_out.csv", {"breakdown_not_summing": 0.5},
                         seed=2) == []
    bare = _write(tmp_path / "bare.csv", [_hand_row(i) for i in range(1, 5)], SNAPSHOT_COLUMNS)
    faults = inject_faults(bare, tmp_path / "bare_out.csv", {"breakdown_not_summing": 0.25},
                           seed=2)
    assert [(f.column, f.detail.split(" -> ")[1]) for f in faults] == [
        ("past_due_principal", "'0.00' (the other parts empty)")]
    _check_row_faults(bare, tmp_path / "bare_out.csv", faults)
