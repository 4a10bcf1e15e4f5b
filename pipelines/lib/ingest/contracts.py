"""Data contracts (ODCS v3.1 YAML) turned into one list of row rules.

Both engines read this list: great-expectations (the engine of record, `ge_suite.py`) and the
DuckDB SQL row checks that decide quarantine at speed (`sql/ingest/stage_rows.sql`, `row_violations.sql`). Keeping one rule
list is what lets a test prove that the two flag exactly the same rows.
"""

from __future__ import annotations

import codecs
import functools
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipelines import settings

# A value must match its type's pattern *and* parse (e.g. 2026-02-30 matches but is no date).
# ASCII classes on purpose: Python's \d also matches non-ASCII digits, DuckDB's RE2 does not.
# Years run from 0001: DuckDB reads year 0000 as 1 BC, which Python's dates cannot hold.
YEAR = r"([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"
TYPE_PATTERNS = {
    "date": rf"^{YEAR}-[0-9]{{2}}-[0-9]{{2}}$",
    "timestamp": (
        rf"^{YEAR}-[0-9]{{2}}-[0-9]{{2}}[T ][0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(\.[0-9]{{1,6}})?"
        r"(Z|[+-][0-9]{2}:[0-9]{2})$"
    ),
    "number": r"^[+-]?[0-9]{1,16}(\.[0-9]{1,2})?$",
    "integer": r"^[+-]?[0-9]{1,9}$",
}
DUCKDB_TYPES = {
    "string": "varchar",
    "date": "date",
    "timestamp": "timestamptz",
    "number": "decimal(18,2)",
    "integer": "integer",
}
TYPE_WORDS = {
    "date": "a date YYYY-MM-DD from year 0001",
    "timestamp": "a timestamp with UTC offset (ISO 8601) from year 0001",
    "number": "a decimal with at most 2 decimal places",
    "integer": "an integer",
}
NAMED_VALUE_SETS = {"iana_timezones": lambda: sorted(zoneinfo.available_timezones())}


class ContractError(ValueError):
    """A contract file that cannot be compiled: names the file and the offending entry."""


@dataclass(frozen=True)
class Column:
    name: str
    logical_type: str
    required: bool
    description: str = ""
    personal_data: bool = False
    max_length: int | None = None
    line_breaks: bool = False  # a quoted value may hold a line break (addresses)

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.logical_type]


@dataclass(frozen=True)
class Rule:
    """One row-level rule. `kind` selects how each engine expresses it."""

    name: str
    kind: str
    column: str
    description: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Contract:
    feed: str
    version: str
    path: Path
    columns: tuple[Column, ...]
    rules: tuple[Rule, ...]
    required_feed: bool
    file_date_column: str | None
    # the order rows are stored in within a night: a query reading a range of these columns
    # (the feature query's customer ranges) then reads only that range's row groups
    cluster_by: tuple[str, ...] = ()
    encoding: str = "utf-8"
    # a key already loaded on an earlier night is skipped, not loaded again (receipts resent)
    skip_keys_loaded_earlier: str | None = None
    # the file's columns beyond the contract are not kept (a work list's names and phones)
    keep_extra_columns: bool = True
    # the column that routes a row to its customer's shard (pipelines/lib/shards.py); a feed
    # without one is loaded whole by every shard
    shard_by: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        """Columns whose absence rejects the file. A nullable column may be absent: it loads as
        null, and the ingest log says it was absent."""
        return [c.name for c in self.columns if c.required]

    @property
    def partition_column(self) -> str:
        return self.file_date_column or "landing_date"

    @property
    def personal_columns(self) -> set[str]:
        return {c.name for c in self.columns if c.personal_data}

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


RULE_KINDS = {
    "required", "type", "unique", "valid_values", "pattern", "minimum", "maximum",
    "equals_file_date", "not_after_file_date", "column_not_above",
    "conditional_minimum", "conditional_maximum", "parts_sum_to", "null_unless", "max_length",
    "required_when", "not_before_day_of", "known_in",
}
# rules that read another warehouse table (`known_in`: the value is a key of `table`): both engines
# check against the same list of keys, read once per file (`pipelines/lib/ingest/references.py`)
REFERENCE_KINDS = frozenset({"known_in"})


def _custom_properties(doc: dict) -> dict[str, Any]:
    return {p["property"]: p["value"] for p in doc.get("customProperties", [])}


def _quality_rule(path: Path, column: str | None, q: dict) -> Rule:
    name = q.get("name")
    if not name:
        raise ContractError(f"{path}: a quality rule on {column or 'the table'} has no name")
    description = q.get("description", "")
    if q.get("metric") == "invalidValues":
        args = q.get("arguments", {})
        if "validValues" in args:
            values = [str(v) for v in args["validValues"]]
        elif args.get("validValuesFrom") in NAMED_VALUE_SETS:
            values = NAMED_VALUE_SETS[args["validValuesFrom"]]()
        else:
            raise ContractError(f"{path}: rule {name}: invalidValues needs validValues")
        if "pattern" in args:
            return Rule(name, "pattern", column, description, {"pattern": args["pattern"]})
        return Rule(name, "valid_values", column, description or "one of the allowed values",
                    {"values": values})
    if q.get("type") == "custom" and q.get("engine") == "overdue":
        impl = dict(q.get("implementation", {}))
        kind = impl.pop("rule", None)
        if kind not in RULE_KINDS:
            raise ContractError(f"{path}: rule {name}: unknown rule kind {kind!r}")
        target = impl.pop("column", column)
        if target is None:
            raise ContractError(f"{path}: rule {name}: no column")
        return Rule(name, kind, target, description, impl)
    raise ContractError(f"{path}: rule {name}: unsupported quality entry {q}")


def parse_contract(path: Path) -> Contract:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if doc.get("kind") != "DataContract" or not str(doc.get("apiVersion", "")).startswith("v3"):
        raise ContractError(f"{path}: not an ODCS v3 DataContract")
    props = _custom_properties(doc)
    (table,) = doc["schema"]
    columns: list[Column] = []
    rules: list[Rule] = []
    for prop in table["properties"]:
        name = prop["name"]
        logical = prop.get("logicalType", "string")
        if logical not in DUCKDB_TYPES:
            raise ContractError(f"{path}: column {name}: unsupported logicalType {logical!r}")
        required = bool(prop.get("required", False))
        options = prop.get("logicalTypeOptions", {})
        max_length = options.get("maxLength")
        if logical == "string" and not isinstance(max_length, int):
            raise ContractError(f"{path}: column {name}: a string column needs "
                                "logicalTypeOptions.maxLength")
        columns.append(Column(name, logical, required, prop.get("description", ""),
                              "personal_data" in prop.get("tags", []), max_length,
                              bool(_custom_properties(prop).get("allowLineBreaks", False))))
        if required:
            rules.append(Rule(f"{name}_required", "required", name, "a value is required"))
        if logical != "string":
            rules.append(Rule(f"{name}_type", "type", name, f"must be {TYPE_WORDS[logical]}",
                              {"pattern": TYPE_PATTERNS[logical]}))
        if prop.get("unique"):
            rules.append(Rule(f"{name}_unique", "unique", name, "must be unique in the file"))
        if max_length is not None:
            rules.append(Rule(f"{name}_max_length", "max_length", name,
                              f"must be at most {max_length} characters",
                              {"max_length": max_length}))
        if "minimum" in options:
            rules.append(Rule(f"{name}_minimum", "minimum", name,
                              f"must be at least {options['minimum']}",
                              {"minimum": options["minimum"]}))
        if "maximum" in options:
            rules.append(Rule(f"{name}_maximum", "maximum", name,
                              f"must be at most {options['maximum']}",
                              {"maximum": options["maximum"]}))
        if "pattern" in options:
            rules.append(Rule(f"{name}_pattern", "pattern", name, "must match the required format",
                              {"pattern": options["pattern"]}))
        rules.extend(_quality_rule(path, name, q) for q in prop.get("quality", []))
    rules.extend(_quality_rule(path, None, q) for q in table.get("quality", []))
    known = {c.name for c in columns}
    for rule in rules:
        referenced = {rule.column, rule.params.get("other"),
                      rule.params.get("when", {}).get("column"), *rule.params.get("parts", ())}
        unknown = {c for c in referenced if c} - known
        if unknown:
            raise ContractError(f"{path}: rule {rule.name} names unknown column(s) {sorted(unknown)}")
        if rule.kind == "known_in" and not {"table", "key"} <= set(rule.params):
            raise ContractError(f"{path}: rule {rule.name}: known_in needs table and key")
        if rule.kind == "not_before_day_of" and next(
                (c.logical_type for c in columns if c.name == rule.params.get("other")), None
        ) != "timestamp":
            raise ContractError(f"{path}: rule {rule.name}: not_before_day_of needs a timestamp other")
        if rule.kind == "parts_sum_to":
            summed = [rule.column, *rule.params.get("parts", ())]
            if len(summed) < 2 or any(c.logical_type != "number" for c in columns if c.name in summed):
                raise ContractError(f"{path}: rule {rule.name}: needs parts, all numbers like the total")
    cluster_by = tuple(props.get("clusterBy") or ())
    if set(cluster_by) - known:
        raise ContractError(f"{path}: clusterBy names unknown column(s) "
                            f"{sorted(set(cluster_by) - known)}")
    names = [r.name for r in rules]
    if len(names) != len(set(names)):
        raise ContractError(f"{path}: duplicate rule names")
    return Contract(
        feed=props.get("feed", doc["name"]),
        version=str(doc["version"]),
        path=path,
        columns=tuple(columns),
        rules=tuple(rules),
        required_feed=bool(props.get("requiredFeed", False)),
        file_date_column=props.get("fileDateColumn"),
        cluster_by=cluster_by,
        encoding=_encoding(path, props.get("encoding", "utf-8")),
        skip_keys_loaded_earlier=_known_column(path, known, props.get("skipKeysLoadedEarlier"),
                                               "skipKeysLoadedEarlier"),
        keep_extra_columns=props.get("extraColumns", "keep") != "drop",
        shard_by=_known_column(path, known, props.get("shardBy"), "shardBy"),
    )


def _known_column(path: Path, known: set[str], name: str | None, prop: str) -> str | None:
    if name is not None and name not in known:
        raise ContractError(f"{path}: {prop} names unknown column {name!r}")
    return name


def _encoding(path: Path, name: str) -> str:
    """The feed's text encoding as Python's codec name; an unknown name refuses the contract."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ContractError(f"{path}: unknown encoding {name!r}") from None


@functools.cache
def load_contract(feed: str) -> Contract:
    path = settings.CONTRACTS_DIR / f"{feed}.odcs.yaml"
    if not path.exists():
        raise ContractError(f"no contract for feed {feed!r} at {path}")
    return parse_contract(path)


def feeds() -> list[str]:
    return sorted(p.name.removesuffix(".odcs.yaml") for p in settings.CONTRACTS_DIR.glob("*.odcs.yaml"))
