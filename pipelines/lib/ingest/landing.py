"""Reading one landing file into raw text columns, or rejecting the whole file with a reason.

Every value is kept as text here: typing is the contract's job, so a bad value becomes a
quarantined row with its rule instead of a parser exception that loses the file.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
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


@dataclass(frozen=True)
class StructuralReject:
    """A CSV record that cannot be split into the header's columns."""

    row_number: int
    message: str
    raw_record: str


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


def _decode(path: Path, data: bytes) -> tuple[bytes, list[str]]:
    """The file's bytes without a BOM, after proving they are UTF-8 (the format's encoding)."""
    notes = []
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
        notes.append("UTF-8 byte-order mark removed")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of_offset(data, exc.start)
        raise FileRejected(
            path, "file_encoding",
            f"not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line});"
            " re-export the file as UTF-8",
        ) from exc
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


def _read_csv_slow(text: str, header: list[str]) -> tuple[pa.Table, list[StructuralReject]]:
    """Record-by-record parse, used only when a record does not fit the header."""
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    rows: list[list[str]] = []
    numbers: list[int] = []
    rejects: list[StructuralReject] = []
    for number, record in enumerate(reader, start=1):
        if len(record) == len(header):
            rows.append(record)
            numbers.append(number)
        elif record:  # a blank line is not a record
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="").writerow(record)
            rejects.append(StructuralReject(
                number, f"has {len(record)} fields, the header has {len(header)}", buffer.getvalue()))
    columns = {name: pa.array([r[i] for r in rows], pa.string()) for i, name in enumerate(header)}
    columns[ROW_NUMBER] = pa.array(numbers, pa.int64())
    return pa.table(columns), rejects


def _read_csv(path: Path, data: bytes, contract: Contract) -> LandedFile:
    body, notes = _decode(path, data)
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
    invalid: list[int] = []

    def on_invalid(row):
        invalid.append(row.number or 0)
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(body),
        read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=16 << 20),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types={h: pa.string() for h in header}, strings_can_be_null=False,
            quoted_strings_can_be_null=False),
    )
    rejects: list[StructuralReject] = []
    if invalid:
        table, rejects = _read_csv_slow(body.decode("utf-8"), header)
    else:
        table = table.append_column(ROW_NUMBER, pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64)))
    return LandedFile(contract.feed, path, night_of(path), "", table, rejects, absent, notes)


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Parquet values as the text a CSV export would carry, so one set of rules fits both."""
    kind = column.type
    if pa.types.is_floating(kind):
        column = pc.round(column, 2)
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        in_utc = column.cast(pa.timestamp(kind.unit, tz="UTC"))
        return pc.strftime(in_utc, format="%Y-%m-%dT%H:%M:%SZ").cast(pa.string())
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
    return column.cast(pa.string())


def _read_parquet(path: Path, contract: Contract) -> LandedFile:
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise FileRejected(path, "file_unreadable", f"not a readable Parquet file ({exc})") from exc
    absent = _check_columns(path, table.column_names, contract)
    texts = {name: _as_text(table[name]) for name in table.column_names}
    texts[ROW_NUMBER] = pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64))
    return LandedFile(contract.feed, path, night_of(path), "", pa.table(texts), [], absent, [])


def _spreadsheet():
    from pipelines.lib.ingest import spreadsheet  # imports this module's LandedFile

    return spreadsheet


def read_landing_file(path: Path, contract: Contract) -> LandedFile:
    """Read and check the file-level contract; raises FileRejected naming the file and defect."""
    night = night_of(path)
    data = path.read_bytes()
    if not data:
        raise FileRejected(path, "file_empty", "file is empty (0 bytes)")
    landed_bytes = data
    if path.name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise FileRejected(path, "file_unreadable", f"not a readable gzip file ({exc})") from exc
    if path.suffix == ".xlsx":
        landed = _spreadsheet().read_xlsx(path, contract)
    elif path.suffix == ".parquet":
        landed = _read_parquet(path, contract)
    else:
        landed = _read_csv(path, data, contract)
    landed.sha256 = hashlib.sha256(landed_bytes).hexdigest()
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
