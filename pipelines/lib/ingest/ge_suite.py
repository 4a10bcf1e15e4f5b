"""great-expectations 1.x suites generated from the contracts: the engine of record.

The frame GE validates is the file as DuckDB staged it for the SQL rules (`sql/ingest/stage_rows.sql`:
trimmed text, blank -> missing, and each typed column's value where the text matches its type's
pattern and parses), read through Arrow without Python objects (`sql/ingest/ge_frame.sql`). The
parse is shared with the SQL rules; every rule is evaluated by both engines on every row, which is
what the agreement check compares. Amounts a sum rule adds up also get exact integer cents
(floats would make 0.10 + 0.20 <> 0.30).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines import settings
from pipelines.lib.ingest.contracts import Contract
from pipelines.lib.ingest.landing import ROW_NUMBER
from pipelines.lib.ingest.row_checks import rule_bound, stage_statement, when_condition
from pipelines.lib.sql import bind, render_sql

ROW_ID = "row_number"
# great-expectations costs ~45 s per 1M-row file (STACK.md; measured in `make bench`): above this
# many rows it validates every row the SQL checks flagged plus a seeded sample of the others.


@dataclass
class ExpectationOutcome:
    rule: str
    column: str
    expectation: str
    success: bool
    unexpected_count: int
    sample_rows: list[int]
    row_numbers: set[int] = field(default_factory=set)
    observed_value: object = None


def ge_sample(table: pa.Table, flagged: set[int], *, seed: str,
              max_rows: int | None = None) -> pa.Table:
    """The rows great-expectations validates: all of a small file; for a large one, every flagged
    row (both copies of a duplicate key are flagged, so uniqueness holds within the sample) and a
    sample of clean rows seeded by the file's hash, so a rerun validates the same rows."""
    max_rows = settings.ge_max_rows() if max_rows is None else max_rows
    if table.num_rows <= max_rows:
        return table
    numbers = table[ROW_NUMBER].to_numpy()
    is_flagged = np.isin(numbers, np.fromiter(flagged, dtype=np.int64, count=len(flagged)))
    clean_positions = np.flatnonzero(~is_flagged)
    room = max(max_rows - int(is_flagged.sum()), 0)
    rng = np.random.default_rng(int(hashlib.sha256(seed.encode()).hexdigest()[:16], 16))
    chosen = rng.choice(clean_positions, size=min(room, len(clean_positions)), replace=False)
    positions = np.sort(np.concatenate([np.flatnonzero(is_flagged), chosen]))
    return table.take(pa.array(positions))


def great_expectations():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx  # 3 s to import: only when a suite actually runs

    return gx


def _frame_table(table: pa.Table, contract: Contract, staged_on=None) -> pa.Table:
    """The file staged by DuckDB exactly as the SQL rules read it (`sql/ingest/stage_rows.sql`),
    selected as `sql/ingest/ge_frame.sql`: Arrow columns, no Python objects. `staged_on`: a
    connection whose temp table `staged` already holds this file (`run_row_checks` leaves it)."""
    import duckdb

    cents, days = [], []
    for rule in contract.rules:
        if rule.kind == "parts_sum_to":
            cents += [{"name": p, "factor": 100, "alias": f"{p}__cents"} for p in rule.params["parts"]]
            cents.append({"name": rule.column, "factor": -100,
                          "alias": f"{rule.column}__negated_cents"})
        if rule.kind == "not_before_day_of" and rule.params["other"] not in days:
            days.append(rule.params["other"])
    names = set(contract.column_names)
    texts = {name for rule in contract.rules for name in _frame_columns(contract, rule)} & names
    select = render_sql("ingest/ge_frame", columns=contract.columns, cents=cents, days=days,
                        texts=texts)
    if staged_on is not None:
        return staged_on.sql(select).to_arrow_table()
    stage_sql, params = stage_statement(contract, table.column_names)
    conn = duckdb.connect(config=settings.duckdb_config())
    try:
        conn.register("landed", table)
        conn.execute(stage_sql, bind(stage_sql, params))
        return conn.sql(select).to_arrow_table()
    finally:
        conn.close()


def _series(name: str, column: pa.ChunkedArray) -> pd.Series:
    """One Arrow column as pandas without an object copy: text as pandas' Arrow-backed `str`,
    numbers as float64, dates as datetime64[ns] (which great-expectations compares vectorised;
    a date beyond that range, 1677-2262, stays in seconds and is compared value by value), cents
    as float64 while exact (below 2**53), else Python integers."""
    if pa.types.is_date(column.type):
        try:
            return column.cast(pa.timestamp("ns")).to_pandas()
        except pa.ArrowInvalid:
            return column.cast(pa.timestamp("s")).to_pandas()
    if name.endswith("cents"):
        largest = pc.max(pc.abs(column)).as_py() or 0
        return (column.cast(pa.float64()).to_pandas() if largest < 2 ** 53
                else pd.Series(column.to_pylist(), dtype=object))
    return column.to_pandas()


def ge_frame(table: pa.Table, contract: Contract,
             references: dict[str, list[str]] | None = None, staged_on=None) -> pd.DataFrame:
    """The columns the suite validates (`ge_columns`) as one frame."""
    return pd.DataFrame(ge_columns(table, contract, references, staged_on), copy=False)


def ge_columns(table: pa.Table, contract: Contract,
               references: dict[str, list[str]] | None = None,
               staged_on=None) -> dict[str, pd.Series]:
    """The columns the suite validates: each contract column's trimmed text and typed value as
    the night's staging gives them; for a `known_in` rule, whether each value is one of the keys
    in `references`."""
    staged = _frame_table(table, contract, staged_on)
    if staged.num_rows != table.num_rows:
        raise ValueError(f"staged table has {staged.num_rows} rows, the file {table.num_rows}")
    columns = {name: _series(name, staged[name]) for name in staged.column_names}
    for rule in contract.rules:
        if rule.kind == "known_in":
            if references is None or rule.name not in references:
                raise ValueError(f"rule {rule.name}: known_in needs the keys of "
                                 f"{rule.params['table']} (row_checks.reference_values)")
            keys = pa.array(references[rule.name], pa.string())
            columns[f"{rule.column}__known_{rule.name}"] = pc.fill_null(
                pc.is_in(staged[rule.column], value_set=keys), False).to_pandas()
    return columns


def _value_column(contract: Contract, name: str) -> str:
    return name if contract.column(name).logical_type == "string" else f"{name}__value"


def expectations_for(contract: Contract, night: date) -> list:
    """One GE expectation per contract rule, tagged with the rule name in `meta`."""
    gx = great_expectations()
    from great_expectations.expectations.row_conditions import Column, OrCondition

    E = gx.expectations
    result = []
    for rule in contract.rules:
        meta = {"rule": rule.name, "column": rule.column}
        column = rule.column
        value = _value_column(contract, column)
        bound = rule_bound(contract, rule, night)
        if type(bound) is date:  # pandas compares its timestamps with datetimes only
            bound = datetime.combine(bound, time())
        if rule.kind == "required" and value != column:
            # a typed column's presence as a flag: its group then holds no text at all
            expectation = E.ExpectColumnValuesToBeInSet(
                column=f"{column}__given", value_set=[True], meta=meta)
        elif rule.kind == "required":
            expectation = E.ExpectColumnValuesToNotBeNull(column=column, meta=meta)
        elif rule.kind == "type":
            # `<column>__given`: the text is not null (a boolean column filters without copying text)
            expectation = E.ExpectColumnValuesToNotBeNull(
                column=value, row_condition=Column(f"{column}__given") == True, meta=meta)
        elif rule.kind == "unique":
            expectation = E.ExpectColumnValuesToBeUnique(column=column, meta=meta)
        elif rule.kind == "valid_values":
            expectation = E.ExpectColumnValuesToBeInSet(column=column, value_set=bound, meta=meta)
        elif rule.kind == "pattern":
            expectation = E.ExpectColumnValuesToMatchRegex(column=column, regex=bound, meta=meta)
        elif rule.kind == "max_length":
            expectation = E.ExpectColumnValueLengthsToBeBetween(
                column=column, max_value=bound, meta=meta)
        elif rule.kind == "minimum":
            expectation = E.ExpectColumnValuesToBeBetween(column=value, min_value=bound, meta=meta)
        elif rule.kind == "maximum":
            expectation = E.ExpectColumnValuesToBeBetween(column=value, max_value=bound, meta=meta)
        elif rule.kind == "equals_file_date":
            expectation = E.ExpectColumnValuesToBeBetween(
                column=value, min_value=bound, max_value=bound, meta=meta)
        elif rule.kind == "not_after_file_date":
            expectation = E.ExpectColumnValuesToBeBetween(column=value, max_value=bound, meta=meta)
        elif rule.kind == "column_not_above":
            expectation = E.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=_value_column(contract, rule.params["other"]), column_B=value,
                or_equal=True, ignore_row_if="either_value_is_missing", meta=meta)
        elif rule.kind in ("conditional_minimum", "conditional_maximum"):
            when_column, operator, when_value = when_condition(rule)
            subject = Column(_value_column(contract, when_column))
            condition = {">": subject > when_value, "==": subject == when_value,
                         "<": subject < when_value}[operator]
            limits = ({"min_value": bound} if rule.kind == "conditional_minimum"
                      else {"max_value": bound})
            expectation = E.ExpectColumnValuesToBeBetween(
                column=value, row_condition=condition, meta=meta, **limits)
        elif rule.kind == "parts_sum_to":
            # parts + (-total) = 0 on every row with the total and any part given: a missing part
            # there leaves the sum missing, so a partial breakdown fails like a wrong one
            parts = [f"{part}__cents" for part in rule.params["parts"]]
            total = f"{column}__negated_cents"
            given = OrCondition(conditions=[
                Column(total).is_not_null() & Column(part).is_not_null() for part in parts])
            expectation = E.ExpectMulticolumnSumToEqual(
                column_list=[*parts, total], sum_total=0, ignore_row_if="never",
                row_condition=given, meta=meta)
        elif rule.kind == "required_when":
            when_column, operator_, when_value = when_condition(rule)
            subject = Column(_value_column(contract, when_column))
            condition = (subject.is_in(list(when_value)) if operator_ == "in" else
                         {"==": subject == when_value, ">": subject > when_value,
                          "<": subject < when_value}[operator_])
            expectation = E.ExpectColumnValuesToNotBeNull(
                column=column, row_condition=condition, meta=meta)
        elif rule.kind == "not_before_day_of":
            expectation = E.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=value, column_B=f"{rule.params['other']}__day", or_equal=True,
                ignore_row_if="either_value_is_missing", meta=meta)
        elif rule.kind == "known_in":
            # pandas marks each value found among the keys (`ge_frame`): a value set of 200,000
            # keys inside the expectation costs great-expectations minutes per file
            expectation = E.ExpectColumnValuesToBeInSet(
                column=f"{column}__known_{rule.name}", value_set=[True],
                row_condition=Column(column).is_not_null(), meta=meta)
        elif rule.kind == "null_unless":
            when_column, operator_, when_value = when_condition(rule)
            subject = Column(_value_column(contract, when_column))
            otherwise = (subject.is_not_in(list(when_value)) if operator_ == "in" else
                         {"==": subject != when_value, ">": subject <= when_value,
                          "<": subject >= when_value}[operator_])
            expectation = E.ExpectColumnValuesToBeNull(
                column=value, row_condition=subject.is_not_null() & otherwise, meta=meta)
        else:
            raise ValueError(f"rule {rule.name}: no great-expectations form for {rule.kind}")
        result.append(expectation)
    return result


@functools.cache
def _validator_parts():
    gx = great_expectations()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    asset = context.data_sources.add_pandas("landing").add_dataframe_asset("landed_file")
    return context, asset.add_batch_definition_whole_dataframe("whole_file")


def plain(value) -> str:
    """A value as a reader writes it: `1.5`, not `np.float64(1.5)`; `2026-05-03`, not a
    Timestamp repr; a missing value (None, NaN, NaT) as `none`; a pair as `a, b`; a row of
    several columns as `a: 1, b: 2`."""
    if isinstance(value, (list, tuple)):
        return ", ".join(plain(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(_plain_item(k, v) for k, v in value.items())
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "none"
    if isinstance(value, (pd.Timestamp, datetime)):
        moment = pd.Timestamp(value)
        return (moment.date().isoformat() if moment == moment.normalize() and moment.tz is None
                else moment.isoformat())
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.15g}"
    return str(value)


def _plain_item(name: str, value) -> str:
    """One column of a row: the exact cents a sum rule adds up shown as the amount they are."""
    for suffix, sign in (("__negated_cents", -1), ("__cents", 1)):
        if name.endswith(suffix) and isinstance(value, (int, float, np.number)) and not pd.isna(value):
            return f"{name.removesuffix(suffix)}: {Decimal(sign * int(value)) / 100:.2f}"
        if name.endswith(suffix):
            return f"{name.removesuffix(suffix)}: {plain(value)}"
    return f"{name}: {plain(value)}"


def validate_with_ge(table: pa.Table, contract: Contract, night: date, *,
                     complete: bool = False, references: dict[str, list[str]] | None = None,
                     staged_on=None) -> list[ExpectationOutcome]:
    """Run the contract's suite over one landed file; `complete` returns every flagged row."""
    return validate_file(table, contract, night, complete=complete, references=references,
                         staged_on=staged_on)[0]


def _frame_columns(contract: Contract, rule) -> list[str]:
    """The frame columns one rule's expectation reads (its domain and its row condition)."""
    column, kind = rule.column, rule.kind
    value = _value_column(contract, column)
    if kind in ("required", "type") and value != column:
        return [f"{column}__given", value]
    if kind in ("required", "unique", "valid_values", "pattern", "max_length"):
        return [column]
    if kind == "column_not_above":
        return [value, _value_column(contract, rule.params["other"])]
    if kind in ("conditional_minimum", "conditional_maximum", "null_unless"):
        return [value, _value_column(contract, when_condition(rule)[0])]
    if kind == "required_when":
        return [column, _value_column(contract, when_condition(rule)[0])]
    if kind == "parts_sum_to":
        return [*(f"{part}__cents" for part in rule.params["parts"]), f"{column}__negated_cents"]
    if kind == "not_before_day_of":
        return [value, f"{rule.params['other']}__day"]
    if kind == "known_in":
        return [column, f"{column}__known_{rule.name}"]
    return [value]


def _group(contract: Contract, rule) -> tuple:
    """Rules sharing a frame: a typed column's rules together (its flag and value, no text, so
    filtering rows copies no strings); any other rule with the rules reading the same columns."""
    columns = tuple(_frame_columns(contract, rule))
    typed = contract.column(rule.column).logical_type != "string"
    if typed and set(columns) <= {f"{rule.column}__given", f"{rule.column}__value"}:
        return (rule.column,)
    return columns


@contextlib.contextmanager
def _no_frame_fingerprint():
    """great-expectations hashes every frame under 1 GB it is given, for a batch marker only
    (`pandas_data_fingerprint`); the file's sha256 already names the data, so it is skipped."""
    from great_expectations.execution_engine import pandas_execution_engine

    threshold = pandas_execution_engine.HASH_THRESHOLD
    pandas_execution_engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        pandas_execution_engine.HASH_THRESHOLD = threshold


def validate_file(table: pa.Table, contract: Contract, night: date, *, complete: bool = False,
                  references: dict[str, list[str]] | None = None, staged_on=None):
    """The outcomes of `validate_with_ge` and great-expectations' own validation result (for the
    Data Docs, `pipelines/lib/ingest/data_docs.py`).

    Every row is validated. The suite runs in groups, one per contract column, each on a frame of
    only the columns its expectations read: a row condition makes great-expectations filter the
    whole frame it holds, so a narrow frame is what keeps a 1M-row file in seconds."""
    gx = great_expectations()
    _, batch_definition = _validator_parts()
    name = f"{contract.feed}-{contract.version}-{night.isoformat()}"
    columns = ge_columns(table, contract, references, staged_on)
    groups: dict[tuple, list] = {}
    for rule, expectation in zip(contract.rules, expectations_for(contract, night), strict=True):
        groups.setdefault(_group(contract, rule), []).append((rule, expectation))
    result_format = {"result_format": "COMPLETE" if complete else "SUMMARY",
                     "unexpected_index_column_names": [ROW_ID], "partial_unexpected_count": 10}
    validations = []
    for members in groups.values():
        suite = gx.ExpectationSuite(name=name)
        needed = [ROW_ID]
        for rule, expectation in members:
            suite.add_expectation(expectation)
            needed += [c for c in _frame_columns(contract, rule) if c not in needed]
        with _no_frame_fingerprint():
            frame = pd.DataFrame({name: columns[name] for name in needed}, copy=False)
            batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
            validations.append(batch.validate(suite, result_format=result_format))
    validation = _merged(validations, [rule.name for rule in contract.rules])
    outcomes = []
    personal = contract.personal_columns
    for item in validation.results:
        config = item.expectation_config
        if (item.exception_info or {}).get("raised_exception"):
            raise RuntimeError(f"great-expectations could not evaluate rule {config.meta['rule']}: "
                               f"{item.exception_info.get('exception_message')}")
        result = item.result or {}
        rows = {int(entry[ROW_ID]) for entry in result.get("unexpected_index_list") or []}
        partial = result.get("partial_unexpected_index_list") or result.get("unexpected_index_list") or []
        samples = sorted(int(entry[ROW_ID]) for entry in partial)[:10]
        observed = result.get("partial_unexpected_list", [])[:10]
        if config.meta["column"] in personal:
            observed = None
        outcomes.append(ExpectationOutcome(
            rule=config.meta["rule"], column=config.meta["column"], expectation=config.type,
            success=bool(item.success),
            unexpected_count=int(result.get("unexpected_count") or 0), sample_rows=samples,
            row_numbers=rows, observed_value=[plain(v) for v in observed] if observed else None))
    return outcomes, validation


def _merged(validations: list, order: list[str]):
    """The groups' results as one suite's result, in the contract's rule order."""
    merged = validations[0]
    position = {rule: index for index, rule in enumerate(order)}
    merged.results = sorted((item for v in validations for item in v.results),
                            key=lambda item: position[item.expectation_config.meta["rule"]])
    passed = sum(bool(item.success) for item in merged.results)
    merged.success = passed == len(merged.results)
    merged.statistics = {
        "evaluated_expectations": len(merged.results), "successful_expectations": passed,
        "unsuccessful_expectations": len(merged.results) - passed,
        "success_percent": 100.0 * passed / len(merged.results) if merged.results else None}
    return merged
