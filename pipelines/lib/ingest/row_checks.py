"""The contract's row rules compiled to DuckDB SQL and run over one landed file.

This is the fast path that decides, row by row, what loads and what goes to quarantine. The
great-expectations suite (`ge_suite.py`) is generated from the same rules and is the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import duckdb
import pyarrow as pa

from pipelines.lib.ingest.contracts import REFERENCE_KINDS, TYPE_PATTERNS, Contract, Rule
from pipelines.lib.ingest.landing import LandedFile
from pipelines.lib.sql import bind, quote_identifier, render_sql
from pipelines.lib.warehouse import table_exists


def latest_instant_of(night: date) -> datetime:
    """The end of `night` anywhere on Earth: midnight at UTC-12, i.e. the next day 12:00 UTC."""
    return datetime.combine(night + timedelta(days=1), time(12), tzinfo=UTC)


def rule_bound(contract: Contract, rule: Rule, night: date):
    """The value a rule compares with, typed for the column it checks (None if it has none)."""
    column = contract.column(rule.column)
    if rule.kind in ("equals_file_date", "not_after_file_date"):
        return latest_instant_of(night) if column.logical_type == "timestamp" else night
    if rule.kind in ("minimum", "conditional_minimum"):
        return rule.params["minimum"]
    if rule.kind in ("maximum", "conditional_maximum"):
        return rule.params["maximum"]
    if rule.kind == "valid_values":
        return list(rule.params["values"])
    if rule.kind == "pattern":
        return rule.params["pattern"]
    if rule.kind == "max_length":
        return rule.params["max_length"]
    return None


def when_condition(rule: Rule) -> tuple[str, str, float]:
    """(column, operator, value) of a conditional rule's `when`, e.g. past_due_amount > 0."""
    when = rule.params["when"]
    for key, operator in (("greater_than", ">"), ("equal_to", "=="), ("less_than", "<"),
                          ("in", "in")):
        if key in when:
            return when["column"], operator, when[key]
    raise ValueError(f"rule {rule.name}: `when` needs greater_than, equal_to, less_than or in")


def reference_table(index: int) -> str:
    """The temp table holding the keys a `known_in` rule (rule number `index`) accepts."""
    return f"reference_{index}"


def _value_expression(contract: Contract, name: str) -> str:
    column = contract.column(name)
    return name if column.logical_type == "string" else f"{name}__value"


@dataclass(frozen=True)
class CompiledChecks:
    stage_sql: str
    violations_sql: str
    params: dict
    rules_table: pa.Table


def stage_statement(contract: Contract, landed_columns: list[str]) -> tuple[str, dict]:
    """The statement staging a landed file as temp table `staged`, and its parameters."""
    present = set(landed_columns)
    extras = [c for c in landed_columns if c not in set(contract.column_names)
              and c != "__row_number" and contract.keep_extra_columns]
    params: dict = {}
    typed = []
    for column in contract.columns:
        if column.logical_type == "string":
            continue
        param = f"type_pattern_{column.logical_type}"
        params[param] = TYPE_PATTERNS[column.logical_type]
        typed.append({"name": column.name, "duckdb_type": column.duckdb_type, "pattern_param": param})
    stage_sql = render_sql(
        "ingest/stage_rows",
        columns=[{"name": c.name, "present": c.name in present} for c in contract.columns],
        extras=[{"ident": quote_identifier(e)} for e in extras],
        typed_columns=typed,
    )
    return stage_sql, params


def compile_checks(contract: Contract, landed_columns: list[str], night: date) -> CompiledChecks:
    stage_sql, params = stage_statement(contract, landed_columns)
    rules = []
    for index, rule in enumerate(contract.rules):
        entry = {
            "index": index, "kind": rule.kind, "column": rule.column, "param": f"rule_{index}",
            "value": _value_expression(contract, rule.column),
        }
        bound = rule_bound(contract, rule, night)
        if bound is not None:
            params[entry["param"]] = bound
        if rule.kind == "column_not_above":
            entry["other_value"] = _value_expression(contract, rule.params["other"])
        if rule.kind == "parts_sum_to":
            entry["part_values"] = [_value_expression(contract, part) for part in rule.params["parts"]]
        if rule.kind.startswith("conditional_") or rule.kind in ("null_unless", "required_when"):
            column, operator, value = when_condition(rule)
            entry["when_value"] = _value_expression(contract, column)
            params[f"when_{index}"] = list(value) if operator == "in" else value
            sql_operator = "=" if operator == "==" else operator
            entry["when_predicate"] = (
                f"list_contains($when_{index}, {_value_expression(contract, column)})"
                if operator == "in" else
                f"{_value_expression(contract, column)} {sql_operator} $when_{index}")
        if rule.kind == "not_before_day_of":
            entry["other"] = rule.params["other"]
        if rule.kind in REFERENCE_KINDS:
            entry["reference"] = reference_table(index)
        rules.append(entry)
    violations_sql = render_sql(
        "ingest/row_violations", rules=rules,
        columns=[{"name": c.name} for c in contract.columns],
    )
    rules_table = pa.table({
        "rule_index": pa.array(range(len(contract.rules)), pa.int32()),
        "rule": [r.name for r in contract.rules],
        "column_name": [r.column for r in contract.rules],
        "description": [r.description for r in contract.rules],
        "personal_data": [r.column in contract.personal_columns for r in contract.rules],
    })
    return CompiledChecks(stage_sql, violations_sql, params, rules_table)


def run_row_checks(conn: duckdb.DuckDBPyConnection, contract: Contract, landed: LandedFile) -> CompiledChecks:
    """Stage the file as temp table `staged` and its violations as temp table `violations`.

    `landed` and `contract_rules` are registered on the connection for the statements that follow.
    """
    checks = compile_checks(contract, landed.table.column_names, landed.night)
    stage_references(conn, contract)
    conn.register("landed", landed.table)
    conn.register("contract_rules", checks.rules_table)
    conn.execute(checks.stage_sql, bind(checks.stage_sql, checks.params))
    conn.execute(checks.violations_sql, bind(checks.violations_sql, checks.params))
    return checks


def stage_references(conn: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    """One temp table per `known_in` rule with the keys its table holds now (none when the table
    does not exist yet: on a first night every contact is unknown)."""
    for index, rule in enumerate(contract.rules):
        if rule.kind in REFERENCE_KINDS:
            name = "ingest/reference_keys" if table_exists(conn, rule.params["table"]) \
                else "ingest/empty_reference"
            conn.execute(render_sql(name, reference=reference_table(index),
                                    table=rule.params["table"], key=rule.params["key"]))


def reference_values(conn: duckdb.DuckDBPyConnection, contract: Contract) -> dict[str, list[str]]:
    """{rule name: accepted keys} of the contract's `known_in` rules, for great-expectations."""
    stage_references(conn, contract)
    return {rule.name: [row[0] for row in conn.execute(
                render_sql("ingest/select_reference_keys", reference=reference_table(index))
            ).fetchall()]
            for index, rule in enumerate(contract.rules) if rule.kind in REFERENCE_KINDS}


def flagged_rows_by_rule(conn: duckdb.DuckDBPyConnection) -> dict[str, set[int]]:
    """{rule: set of row numbers} from the `violations` table, for comparing engines."""
    rows = conn.execute(render_sql("ingest/flagged_rows_by_rule")).fetchall()
    return {rule: set(numbers) for rule, numbers in rows}
