"""Sub-sections of the report's collections section (9) that the collections loop adds: contact
outcomes, promises, offers, agencies, experiments.

Each is a module here with `ORDER` (int, position in section 9), `NAME` (its template
`reports/risk_report/sections/<NAME>.html.j2` and its strings key in `strings.d/<NAME>.yaml`),
`collect(conn, night, tables) -> dict | None` (frames read once, no language; None: the section
says "not available") and `tables(frames, text, language, currency) -> dict` (the template's
context, in one language). They are discovered, so adding one touches no other file.
"""

from __future__ import annotations

import functools
import importlib
import logging
import pkgutil
from dataclasses import dataclass
from datetime import date
from types import ModuleType

import duckdb

log = logging.getLogger(__name__)


@functools.cache
def modules() -> tuple[ModuleType, ...]:
    found = [importlib.import_module(f"{__name__}.{info.name}")
             for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
    return tuple(sorted(found, key=lambda m: (m.ORDER, m.NAME)))


@dataclass
class Collected:
    name: str
    frames: dict | None


def collect_all(conn: duckdb.DuckDBPyConnection, night: date, tables: set[str]) -> list[Collected]:
    """Every sub-section's frames; one whose query fails is left out with a warning (the
    section says "not available"), never the whole report."""
    collected = []
    for module in modules():
        try:
            frames = module.collect(conn, night, tables)
        except duckdb.Error as error:
            log.warning("report section %s left out: %s", module.NAME, str(error).splitlines()[0])
            frames = None
        collected.append(Collected(module.NAME, frames))
    return collected


def render_contexts(collected: list[Collected], text: dict, language: str,
                    currency: str) -> list[dict]:
    by_name = {m.NAME: m for m in modules()}
    contexts = []
    for part in collected:
        context = (by_name[part.name].tables(part.frames, text, language, currency)
                   if part.frames is not None else None)
        contexts.append({"name": part.name, "template": f"sections/{part.name}.html.j2",
                         "t": text.get(part.name, {}), "c": context})
    return contexts
