"""great-expectations 1.x suites generated from the contracts: the engine of record.

The frame GE validates is parsed by pandas, independently of DuckDB, from the same raw text:
`<column>` holds the trimmed text (blank -> missing) and `<column>__value` the typed value, or
missing where the text does not match its type's pattern or does not parse. Amounts a sum rule
adds up also get `<column>__cents`, exact integer cents (floats would make 0.10 + 0.20 <> 0.30).
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines import settings
from pipelines.lib.ingest.contracts import TYPE_PATTERNS, Contract
from pipelines.lib.ingest.landing import ROW_NUMBER
from pipelines.lib.ingest.row_checks import rule_bound, when_condition

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


def _gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx  # 3 s to import: only when a suite actually runs

    return gx


def _parse(text: pd.Series, logical_type: str) -> pd.Series:
    valid = text.str.fullmatch(TYPE_PATTERNS[logical_type].strip("^$"), na=False)
    candidate = text.where(valid)
    if logical_type == "date":
        return pd.to_datetime(candidate, format="%Y-%m-%d", errors="coerce")
    if logical_type == "timestamp":
        return pd.to_datetime(candidate, format="ISO8601", errors="coerce", utc=True)
    return pd.to_numeric(candidate, errors="coerce")


def ge_frame(table: pa.Table, contract: Contract,
             references: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """The frame the suite validates: trimmed text and pandas-parsed values per contract column;
    for a `known_in` rule, whether each value is one of the keys in `references`."""
    frame = pd.DataFrame({ROW_ID: table[ROW_NUMBER].to_numpy()})
    for column in contract.columns:
        if column.name in table.column_names:
            text = table[column.name].to_pandas().astype("string").str.strip()
            text = text.mask(text == "")
        else:
            text = pd.Series(pd.NA, index=frame.index, dtype="string")
        frame[column.name] = text.astype(object).where(text.notna(), None)
        if column.logical_type != "string":
            frame[f"{column.name}__value"] = _parse(text, column.logical_type)
    for rule in contract.rules:
        if rule.kind == "known_in":
            if references is None or rule.name not in references:
                raise ValueError(f"rule {rule.name}: known_in needs the keys of "
                                 f"{rule.params['table']} (row_checks.reference_values)")
            frame[f"{rule.column}__known_{rule.name}"] = frame[rule.column].isin(
                set(references[rule.name]))
        if rule.kind == "not_before_day_of":
            other = rule.params["other"]
            frame[f"{other}__day"] = pd.to_datetime(
                frame[other].where(frame[f"{other}__value"].notna()).str[:10],
                format="%Y-%m-%d", errors="coerce")
        if rule.kind == "parts_sum_to":
            for name in rule.params["parts"]:
                frame[f"{name}__cents"] = _cents(frame, name)
            frame[f"{rule.column}__negated_cents"] = _cents(frame, rule.column, sign=-1)
    return frame


def _cents(frame: pd.DataFrame, name: str, sign: int = 1) -> pd.Series:
    """Exact integer cents of an amount column, missing where it did not parse."""
    parsed = frame[f"{name}__value"].notna()
    return pd.Series([sign * int(Decimal(text) * 100) if ok else None
                      for text, ok in zip(frame[name], parsed, strict=True)],
                     index=frame.index, dtype=object)


def _value_column(contract: Contract, name: str) -> str:
    return name if contract.column(name).logical_type == "string" else f"{name}__value"


def expectations_for(contract: Contract, night: date) -> list:
    """One GE expectation per contract rule, tagged with the rule name in `meta`."""
    gx = _gx()
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
        if rule.kind == "required":
            expectation = E.ExpectColumnValuesToNotBeNull(column=column, meta=meta)
        elif rule.kind == "type":
            expectation = E.ExpectColumnValuesToNotBeNull(
                column=value, row_condition=Column(column).is_not_null(), meta=meta)
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
    gx = _gx()
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
        if name.endswith(suffix) and isinstance(value, (int, np.integer)):
            return f"{name.removesuffix(suffix)}: {Decimal(sign * int(value)) / 100:.2f}"
        if name.endswith(suffix):
            return f"{name.removesuffix(suffix)}: {plain(value)}"
    return f"{name}: {plain(value)}"


def validate_with_ge(table: pa.Table, contract: Contract, night: date, *,
                     complete: bool = False,
                     references: dict[str, list[str]] | None = None) -> list[ExpectationOutcome]:
    """Run the contract's suite over one landed file; `complete` returns every flagged row."""
    return validate_file(table, contract, night, complete=complete, references=references)[0]


def validate_file(table: pa.Table, contract: Contract, night: date, *, complete: bool = False,
                  references: dict[str, list[str]] | None = None):
    """The outcomes of `validate_with_ge` and great-expectations' own validation result (for the
    Data Docs, `pipelines/lib/ingest/data_docs.py`)."""
    gx = _gx()
    _, batch_definition = _validator_parts()
    suite = gx.ExpectationSuite(name=f"{contract.feed}-{contract.version}-{night.isoformat()}")
    for expectation in expectations_for(contract, night):
        suite.add_expectation(expectation)
    frame = ge_frame(table, contract, references)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result_format = {"result_format": "COMPLETE" if complete else "SUMMARY",
                     "unexpected_index_column_names": [ROW_ID], "partial_unexpected_count": 10}
    validation = batch.validate(suite, result_format=result_format)
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
