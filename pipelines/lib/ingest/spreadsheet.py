"""Reading a `.xlsx` night file (first and only non-empty worksheet) into the same all-text table
the CSV reader gives, so the contract's rules apply to it unchanged.

Cells become the text a CSV export would carry: whole numbers without `.0`, dates and datetimes
as ISO text (a datetime at midnight as its date), booleans as true/false, empty cells as "".
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pyarrow as pa
from openpyxl import load_workbook

from pipelines.lib.ingest.contracts import Contract
from pipelines.lib.ingest.inventory import FileRejected, night_of


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _rows(sheet) -> list[list[str]]:
    rows = [[cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    while rows and not any(rows[-1]):
        rows.pop()
    return rows


def read_xlsx(path: Path, contract: Contract):
    """A LandedFile from the workbook; more than one non-empty worksheet rejects the file whole."""
    from pipelines.lib.ingest.landing import ROW_NUMBER, LandedFile, _check_columns

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise FileRejected(path, "file_unreadable", f"not a readable .xlsx workbook ({exc})") from exc
    try:
        sheets = [(sheet.title, rows) for sheet in workbook.worksheets if (rows := _rows(sheet))]
    finally:
        workbook.close()
    if len(sheets) > 1:
        raise FileRejected(path, "file_ambiguous_sheets",
                           f"{len(sheets)} worksheets hold data ({', '.join(t for t, _ in sheets)});"
                           " a night file has one: export the feed's sheet alone")
    if not sheets:
        raise FileRejected(path, "file_empty", "workbook has no header row")
    title, rows = sheets[0]
    header = [h.strip() for h in rows[0]]
    while header and not header[-1]:
        header.pop()
    absent = _check_columns(path, header, contract)
    records, numbers, notes = [], [], []
    for number, row in enumerate(rows[1:], start=1):
        if not any(row):
            continue  # an empty row is not a record
        if any(row[len(header):]):
            raise FileRejected(path, "file_header",
                               f"sheet {title!r} row {number + 1} has values beyond the header's"
                               f" {len(header)} columns")
        records.append((row + [""] * len(header))[:len(header)])
        numbers.append(number)
    columns = {name: pa.array([r[i] for r in records], pa.string()) for i, name in enumerate(header)}
    columns[ROW_NUMBER] = pa.array(np.array(numbers, dtype=np.int64))
    return LandedFile(contract.feed, path, night_of(path), "", pa.table(columns), [], absent, notes)
