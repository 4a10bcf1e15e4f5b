"""Reading one landing file into raw text columns, or rejecting the whole file with a reason.

Every value is kept as text here: typing is the contract's job, so a bad value becomes a
quarantined row with its rule instead of a parser exception that loses the file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pipelines.lib.ingest.contracts import Contract
from pipelines.lib.ingest.inventory import (  # noqa: F401 - re-exported: moved to inventory
    NIGHT_FILE,
    FileRejected,
    find_landing_file,
    landed_nights,
    night_of,
)

ROW_NUMBER = "__row_number"
UTF8_BOM = b"\xef\xbb\xbf"
RAW_RECORD_LIMIT = 2000  # characters of a quarantined record kept in raw_record
# a quoted value may span this many physical lines (a multi-line address); a quote left open
# longer is a runaway quote
MAX_RECORD_LINES = 10
# C0 controls and DEL; tab is allowed, line breaks only in a column the contract lets hold them
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
CONTROL_OR_BREAK = r"[\x00-\x08\x0a-\x1f\x7f]"


@dataclass(frozen=True)
class StructuralReject:
    """A record the reader cannot hand to the contract rules: wrong field count, a quote that
    never closes, a control character. Quarantined with its rule, before any row rule runs."""

    row_number: int
    message: str
    raw_record: str
    rule: str = "row_field_count"
    column: str | None = None


@dataclass
class LandedFile:
    feed: str
    path: Path
    night: date
    sha256: str
    table: pa.Table  # every landed column as text, plus ROW_NUMBER (1-based data row)
    structural_rejects: list[StructuralReject] = field(default_factory=list)
    absent_optional_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.table.num_rows + len(self.structural_rejects)


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def gzip_max_ratio() -> int:
    """How many times its landed size a .csv.gz may inflate to (OVERDUE_GZIP_MAX_RATIO)."""
    raw = os.environ.get("OVERDUE_GZIP_MAX_RATIO", "")
    try:
        return int(raw) if raw else 20
    except ValueError:
        raise ValueError(f"OVERDUE_GZIP_MAX_RATIO: not a whole number: {raw!r}") from None


def _gunzip(path: Path, data: bytes) -> bytes:
    """The CSV inside a .csv.gz, refusing a corrupt archive and one that inflates past the cap."""
    limit = max(gzip_max_ratio() * len(data), 1 << 20)
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        out = inflater.decompress(data, limit + 1)
        if len(out) > limit:
            raise FileRejected(
                path, "file_too_large",
                f"gzip inflates past {limit} bytes ({gzip_max_ratio()}x its size,"
                " OVERDUE_GZIP_MAX_RATIO): refused as a possible gzip bomb")
        if not inflater.eof:
            raise FileRejected(path, "file_unreadable", "gzip stream ends early (truncated archive)")
    except zlib.error as exc:
        raise FileRejected(path, "file_unreadable", f"not a readable gzip file ({exc})") from exc
    return out


def _decode(path: Path, data: bytes, encoding: str = "utf-8") -> tuple[bytes, list[str]]:
    """The file's bytes as UTF-8 without a BOM, after proving they are in the feed's encoding."""
    notes = []
    if data.startswith(UTF8_BOM) and encoding == "utf-8":
        data = data[len(UTF8_BOM):]
        notes.append("UTF-8 byte-order mark removed")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = _line_of_offset(data, exc.start)
        shown = "UTF-8" if encoding == "utf-8" else encoding
        raise FileRejected(
            path, "file_encoding",
            f"not valid {shown}: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line});"
            f" re-export the file as {shown} or set the contract's encoding",
        ) from exc
    if encoding != "utf-8":
        notes.append(f"decoded from {encoding}")
        return text.encode("utf-8"), notes
    return data, notes


def _check_columns(path: Path, columns: list[str], contract: Contract) -> list[str]:
    blank = [i + 1 for i, c in enumerate(columns) if not c.strip()]
    if blank:
        raise FileRejected(path, "file_header", f"header has unnamed column(s) at position {blank}")
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise FileRejected(path, "file_header", f"header repeats column(s) {duplicated}")
    missing = [c for c in contract.required_columns if c not in columns]
    if missing:
        raise FileRejected(path, "file_missing_column",
                           f"required column(s) missing: {', '.join(missing)}")
    return [c for c in contract.column_names if c not in columns]


def truncated(text: str, limit: int = RAW_RECORD_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [truncated: {len(text)} characters in all]"


def _visible(text: str) -> str:
    """Control characters spelled out, so a raw record with a NUL can be stored and read."""
    return re.sub(CONTROL, lambda m: f"\\x{ord(m.group()):02x}", text)


def _line_break_columns(header: list[str], contract: Contract) -> set[int]:
    allowed = {c.name for c in contract.columns if c.line_breaks}
    return {i for i, name in enumerate(header) if name in allowed}


def _record_of(lines: list[str], start: int, width: int, breaks: set[int]) -> tuple[list[str], int] | None:
    """The record opening at physical line `start` and the lines it spans, or None when a quote
    opened there does not close within MAX_RECORD_LINES lines, or closes only by carrying a line
    break into a column the contract does not let hold one (a runaway quote)."""
    quotes = lines[start].count('"')
    if quotes % 2:
        alone = next(csv.reader([lines[start]]), [])
        if len(alone) == width and not any(v.startswith('"') for v in lines[start].split(",")):
            return alone, 1  # a quote inside an unquoted value is text (O"Brien), as pyarrow reads it
    end = start
    while quotes % 2 and end + 1 < len(lines) and end - start + 1 < MAX_RECORD_LINES:
        end += 1
        quotes += lines[end].count('"')
    if quotes % 2:
        return None
    text = "\n".join(lines[start:end + 1])
    record = next(csv.reader([text] if end == start else io.StringIO(text, newline="")), [])
    if end > start and (len(record) != width
                        or any("\n" in v for i, v in enumerate(record) if i not in breaks)):
        return None
    return record, end - start + 1


def _read_csv_slow(text: str, header: list[str], contract: Contract
                   ) -> tuple[pa.Table, list[StructuralReject]]:
    """Line-by-line parse, used only when the records do not account for every physical line.

    Every non-blank physical data line ends in a record (loaded or quarantined) or as the opening
    line of a runaway quote (quarantined); reading resumes on the line after it.
    """
    lines = text.split("\n")
    breaks = _line_break_columns(header, contract)
    rows: list[list[str]] = []
    numbers: list[int] = []
    rejects: list[StructuralReject] = []
    number = 0
    index = 1
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
            continue
        number += 1
        found = _record_of(lines, index, len(header), breaks)
        if found is None:
            rejects.append(StructuralReject(
                number, f"line {index + 1} opens a quoted value that does not close on a record"
                f" boundary (within {MAX_RECORD_LINES} lines)", truncated(_visible(line.rstrip("\r"))),
                "row_unbalanced_quote"))
            index += 1
            continue
        record, spanned = found
        record = [v.removesuffix("\r") if i == len(record) - 1 else v for i, v in enumerate(record)]
        if len(record) == len(header):
            rows.append(record)
            numbers.append(number)
        else:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="").writerow(record)
            rejects.append(StructuralReject(
                number, f"line {index + 1} has {len(record)} fields, the header has {len(header)}",
                truncated(_visible(buffer.getvalue()))))
        index += spanned
    columns = {name: pa.array([r[i] for r in rows], pa.string()) for i, name in enumerate(header)}
    columns[ROW_NUMBER] = pa.array(numbers, pa.int64())
    return pa.table(columns), rejects


def _accounts_for_every_line(table: pa.Table, body: bytes, header: list[str],
                             contract: Contract) -> bool:
    """Whether the parsed records (and the line breaks inside the columns that may hold them)
    account for every non-blank physical data line: a runaway quote swallows lines, so it fails."""
    breaks = [header[i] for i in _line_break_columns(header, contract)]
    embedded = sum(pc.sum(pc.count_substring(table[name], "\n")).as_py() or 0 for name in breaks)
    lines = body.count(b"\n") + (0 if body.endswith(b"\n") else 1) - 1
    if table.num_rows + embedded == lines:
        return True
    blank = len(re.findall(rb"(?m)^[ \t\r]*$\n?", body)) - (1 if body.endswith(b"\n") else 0)
    return table.num_rows + embedded == lines - blank


def _parse_fast(body: bytes, header: list[str]) -> pa.Table | None:
    """pyarrow's parse of the whole file, or None when a record does not fit the header."""
    invalid: list[int] = []

    def on_invalid(row):
        invalid.append(row.number or 0)
        return "skip"

    block = 16 << 20
    while True:
        try:
            table = pacsv.read_csv(
                io.BytesIO(body),
                read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=block),
                parse_options=pacsv.ParseOptions(newlines_in_values=True,
                                                 invalid_row_handler=on_invalid),
                convert_options=pacsv.ConvertOptions(
                    column_types={h: pa.string() for h in header}, strings_can_be_null=False,
                    quoted_strings_can_be_null=False),
            )
        except pa.ArrowInvalid as exc:
            if "straddling" in str(exc) and block < len(body):
                block = min(block * 4, len(body) + 1)  # one record longer than a block
                invalid.clear()
                continue
            return None
        return None if invalid else table


def _read_csv(path: Path, data: bytes, contract: Contract) -> LandedFile:
    body, notes = _decode(path, data, contract.encoding)
    if not body.strip():
        raise FileRejected(path, "file_empty", "file has no header row")
    first_line_end = body.find(b"\n")
    header_line = body if first_line_end < 0 else body[:first_line_end]
    header = [h.strip() for h in next(csv.reader([header_line.decode("utf-8").rstrip("\r")]))]
    absent = _check_columns(path, header, contract)
    if not body.endswith(b"\n") and first_line_end >= 0:
        last = body[body.rfind(b"\n") + 1:].decode("utf-8")
        last_fields = next(csv.reader([last]), [])
        if len(last_fields) < len(header):
            line = body.count(b"\n") + 1
            raise FileRejected(
                path, "file_truncated",
                f"file ends mid-row (line {line} has {len(last_fields)} of {len(header)} fields,"
                " no line end): the export was cut short",
            )
    table = _parse_fast(body, header)
    rejects: list[StructuralReject] = []
    if table is None or not _accounts_for_every_line(table, body, header, contract):
        table, rejects = _read_csv_slow(body.decode("utf-8"), header, contract)
    else:
        table = table.append_column(ROW_NUMBER, pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64)))
    # line breaks outside the columns allowed them already failed the line count above
    control = []
    if _has_control_byte(body):
        table, control = _without_control_characters(table, contract, line_breaks_checked=True)
    landed = LandedFile(contract.feed, path, night_of(path), "", table, rejects + control, absent, notes)
    landed.structural_rejects.sort(key=lambda r: r.row_number)
    return landed


def _has_control_byte(body: bytes) -> bool:
    """Any C0 control other than tab and line ends, or DEL, anywhere in the file (fast: numpy)."""
    allowed = body.count(b"\t") + body.count(b"\n") + body.count(b"\r")
    view = np.frombuffer(body, np.uint8)
    low = sum(int(np.count_nonzero(view[i:i + (16 << 20)] < 32)) for i in range(0, len(view), 16 << 20))
    return low != allowed or b"\x7f" in body


def _without_control_characters(table: pa.Table, contract: Contract, *,
                                line_breaks_checked: bool = False
                                ) -> tuple[pa.Table, list[StructuralReject]]:
    """The table without rows holding a control character (a NUL in a key, a form feed in a name),
    and those rows as rejects naming the first such column."""
    breaks = set(table.column_names) if line_breaks_checked else {
        c.name for c in contract.columns if c.line_breaks}
    names = [n for n in table.column_names if n != ROW_NUMBER]
    hits = {}
    for name in names:
        pattern = CONTROL if name in breaks else CONTROL_OR_BREAK
        found = pc.fill_null(pc.match_substring_regex(table[name], pattern), False)
        if pc.any(found).as_py():
            hits[name] = found
    if not hits:
        return table, []
    bad = None
    for found in hits.values():
        bad = found if bad is None else pc.or_(bad, found)
    rejects = []
    for row in table.filter(bad).to_pylist():
        column = next(n for n in names if n in hits and re.search(
            CONTROL if n in breaks else CONTROL_OR_BREAK, row[n] or ""))
        char = re.search(CONTROL if column in breaks else CONTROL_OR_BREAK, row[column]).group()
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow([row[n] for n in names])
        rejects.append(StructuralReject(
            row[ROW_NUMBER], f"{column} holds control character U+{ord(char):04X}",
            truncated(_visible(buffer.getvalue().replace("\n", "\\n").replace("\r", "\\r"))),
            "row_control_character", column))
    return table.filter(pc.invert(bad)), rejects


def _decimal_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """decimal(38,10) 2500.5000000000 -> 2500.50: a decimal's scale is its type's, not its value's.
    A value with a real third decimal keeps all its digits and so fails the number type."""
    kind = column.type
    if kind.scale <= 2:
        return column.cast(pa.string())
    rounded = pc.round(column, 2)
    exact = pc.equal(rounded, column)
    width = pa.decimal256 if pa.types.is_decimal256(kind) else pa.decimal128
    two_places = rounded.cast(width(kind.precision, 2), safe=False).cast(pa.string())
    return pc.if_else(exact, two_places, column.cast(pa.string()))


def _as_text(column: pa.ChunkedArray, logical_type: str | None = None) -> pa.ChunkedArray:
    """Parquet values as the text a CSV export would carry, so one set of rules fits both."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = kind.value_type
    if pa.types.is_floating(kind):
        column = pc.round(column, 2)
    if pa.types.is_decimal(kind):
        return _decimal_text(column)
    if pa.types.is_timestamp(kind):
        if logical_type == "date":
            # a core system's date as a timestamp: midnight (in its own zone) is the date,
            # any other time stays a timestamp and fails the date type
            local = column.cast(pa.timestamp(kind.unit)) if kind.tz is None else pc.local_timestamp(column)
            midnight = pc.equal(pc.cast(pc.floor_temporal(local, unit="day"), local.type), local)
            return pc.if_else(midnight, pc.strftime(local, format="%Y-%m-%d"),
                              pc.strftime(local, format="%Y-%m-%dT%H:%M:%S")).cast(pa.string())
        if kind.tz is not None:
            in_utc = column.cast(pa.timestamp(kind.unit, tz="UTC"))
            return pc.strftime(in_utc, format="%Y-%m-%dT%H:%M:%SZ").cast(pa.string())
    return column.cast(pa.string())


def _read_parquet(path: Path, contract: Contract) -> LandedFile:
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise FileRejected(path, "file_unreadable", f"not a readable Parquet file ({exc})") from exc
    absent = _check_columns(path, table.column_names, contract)
    types = {c.name: c.logical_type for c in contract.columns}
    texts = {name: _as_text(table[name], types.get(name)) for name in table.column_names}
    texts[ROW_NUMBER] = pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64))
    clean, control = _without_control_characters(pa.table(texts), contract)
    return LandedFile(contract.feed, path, night_of(path), "", clean, control, absent, [])


def _spreadsheet():
    from pipelines.lib.ingest import spreadsheet  # imports this module's LandedFile

    return spreadsheet


def read_landing_file(path: Path, contract: Contract) -> LandedFile:
    """Read and check the file-level contract; raises FileRejected naming the file and defect."""
    night = night_of(path)
    data = path.read_bytes()
    if not data:
        raise FileRejected(path, "file_empty", "file is empty (0 bytes)")
    if path.suffix == ".xlsx":
        landed = _spreadsheet().read_xlsx(path, contract)
    elif path.suffix == ".parquet":
        landed = _read_parquet(path, contract)
    elif path.name.endswith(".csv.gz"):
        landed = _read_csv(path, _gunzip(path, data), contract)
    else:
        landed = _read_csv(path, data, contract)
    landed.sha256 = hashlib.sha256(data).hexdigest()
    _check_file_date(landed, contract, night)
    return landed


def _check_file_date(landed: LandedFile, contract: Contract, night: date) -> None:
    """A file whose every row carries another date is the wrong file, not a night of bad rows."""
    column = contract.file_date_column
    if not column or landed.table.num_rows == 0 or column not in landed.table.column_names:
        return
    values = pc.utf8_trim_whitespace(landed.table[column])
    matching = pc.sum(pc.equal(values, night.isoformat()).cast(pa.int64())).as_py() or 0
    if matching == 0:
        seen = pc.unique(values).to_pylist()[:3]
        raise FileRejected(
            landed.path, "file_date_mismatch",
            f"no row has {column} = {night.isoformat()} (the file's date); found {seen}",
        )
