"""The data dictionary: one definition per column of every nightly table, read from the header
comment of the SQL that builds it, so the definition and the code cannot drift apart.

Header lines look like `--   column: definition`, `--   col_a, col_b: shared definition`, and a
definition may continue on lines indented further (`--     ...`).
"""

from __future__ import annotations

import re

import pyarrow as pa

from pipelines.lib.sql import render_sql

_ENTRY = re.compile(r"^--   ([a-z][a-z0-9_]*(?:, [a-z][a-z0-9_]*)*): (\S.*)$")
_CONTINUATION = re.compile(r"^--     +(\S.*)$")


def table_definitions(sql_name: str) -> dict[str, str]:
    """{column: definition} from the header comment of `sql/<sql_name>.sql`."""
    definitions: dict[str, str] = {}
    last: list[str] = []
    for line in render_sql(sql_name).splitlines():
        if not line.startswith("--"):
            break
        entry = _ENTRY.match(line)
        if entry:
            last = entry.group(1).split(", ")
            for column in last:
                definitions[column] = entry.group(2).strip()
            continue
        more = _CONTINUATION.match(line)
        if more and last:
            for column in last:
                definitions[column] += " " + more.group(1).strip()
        else:
            last = []
    return definitions


def data_dictionary(tables: list[str]) -> pa.Table:
    """table_name, column_name, definition for every column of `features/<table>.sql`."""
    rows = [(table, column, definition) for table in tables
            for column, definition in table_definitions(f"features/{table}").items()]
    return pa.table({
        "table_name": [r[0] for r in rows],
        "column_name": [r[1] for r in rows],
        "definition": [r[2] for r in rows],
    })
