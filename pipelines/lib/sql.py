"""SQL files from `sql/`: read, render the few that are shaped by a contract, bind values.

Templates only ever receive identifiers from contracts and code (quoted where they come from a
landing file's header); values always travel as DuckDB parameters.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from pipelines import settings

if TYPE_CHECKING:
    import jinja2


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(settings.SQL_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def sql_path(name: str) -> str:
    return f"sql/{name}.sql"


def render_sql(name: str, **context) -> str:
    """The statement in `sql/<name>.sql`, rendered with `context` (identifiers only)."""
    return _environment().get_template(f"{name}.sql").render(**context)


def quote_identifier(name: str) -> str:
    """A header name from a landing file, safe inside double quotes."""
    return name.replace('"', '""')


def bind(sql: str, params: dict) -> dict:
    """The parameters a statement uses: DuckDB rejects named parameters it does not reference.
    A `$name` in a `--` comment (a header naming a parameter) is not a use."""
    used = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", re.sub(r"--[^\n]*", "", sql)))
    return {k: v for k, v in params.items() if k in used}
