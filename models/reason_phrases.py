"""Reason-code phrases: templates kept as data (reason_phrases.yaml), filled with account values.

Why data, not code: compliance and collections wording changes without a code change, and each
phrase must exist in every language the letters use (zh-CN, en-US); `check_phrases` proves that
every model source column has a phrase in both.
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd
import yaml

LANGUAGES = ("zh-CN", "en-US")
PHRASES_FILE = Path(__file__).with_name("reason_phrases.yaml")
_ZH_COUNTS = ("零次", "一次", "两次", "三次", "四次", "五次", "六次", "七次", "八次", "九次", "十次")


@functools.cache
def load_phrases(path: Path = PHRASES_FILE) -> dict:
    """The phrase templates by source column."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def check_phrases(sources: Iterable[str], phrases: Mapping | None = None) -> list[str]:
    """Problems: a source without an entry, or an entry or variant missing a language."""
    phrases = load_phrases() if phrases is None else phrases
    problems = []
    for source in sources:
        entry = phrases.get(source)
        if entry is None:
            problems.append(f"{source}: no phrase")
            continue
        variants = [("default", entry)]
        variants += [(key, entry[key]) for key in ("missing", "zero", "negative") if key in entry]
        variants += [(f"case {case}", text) for case, text in (entry.get("cases") or {}).items()]
        for name, variant in variants:
            for language in LANGUAGES:
                if not isinstance(variant.get(language), str):
                    problems.append(f"{source} {name}: no {language} text")
    return problems


def _is_missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # not a scalar
        return False


def _number_text(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def count_zh(count: int) -> str:
    """一次, 两次 ... 十次, then 11次."""
    return _ZH_COUNTS[count] if 0 <= count < len(_ZH_COUNTS) else f"{count}次"


def count_en(count: int) -> str:
    """once, twice, then 3 times."""
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def value_text(value) -> str:
    """A value as a phrase shows it: whole numbers without decimals, null as empty."""
    if _is_missing(value):
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number_text(float(value))
    if hasattr(value, "item"):  # numpy scalars
        return value_text(value.item())
    return str(value)


class _Placeholders(dict):
    """Placeholder values computed on first use: a template reads two or three of them."""

    def __init__(self, value, row: Mapping):
        super().__init__()
        self.value, self.row = value, row

    def __missing__(self, key: str) -> str:
        text = self._compute(key)
        self[key] = text
        return text

    def _compute(self, key: str) -> str:
        if key == "value":
            return value_text(self.value)
        if key in ("count_zh", "count_en", "percent", "signed_points", "amount", "signed_amount"):
            number = _as_number(self.value)
            if number is None:
                return ""
            whole = round(number)
            return {
                "count_zh": lambda: count_zh(whole), "count_en": lambda: count_en(whole),
                "percent": lambda: f"{number * 100:.0f}%",
                "signed_points": lambda: f"{number * 100:+.0f}",
                "amount": lambda: f"{number:,.2f}", "signed_amount": lambda: f"{number:+,.2f}",
            }[key]()
        if key in self.row:
            return value_text(self.row[key])
        if key == "currency":
            return ""
        raise KeyError(f"no placeholder {{{key}}} in the account's row")


def _as_number(value) -> float | None:
    if _is_missing(value) or isinstance(value, str):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def placeholders(value, row: Mapping) -> Mapping[str, str]:
    """Every placeholder a template may use, from the feature's value and the account's row."""
    return _Placeholders(value, row)


def template_for(source: str, value, language: str, phrases: Mapping | None = None) -> str:
    """The template for this value: missing, then a case, then zero, then the default."""
    phrases = load_phrases() if phrases is None else phrases
    entry = phrases[source]
    if _is_missing(value) and "missing" in entry:
        return entry["missing"][language]
    cases = entry.get("cases") or {}
    key = value_text(value)
    if key in cases:
        return cases[key][language]
    number = _as_number(value)
    if "negative" in entry and number is not None and number < 0:
        return entry["negative"][language]
    if "zero" in entry and number is not None and (
            number == 0 or abs(number) < float(entry.get("zero_below", 0))):
        return entry["zero"][language]
    return entry[language]


_VALUE_FIELDS = frozenset({"value", "count_zh", "count_en", "percent", "signed_points", "amount",
                           "signed_amount", "currency"})


def _fields(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def render_reason(source: str, value, row: Mapping, language: str,
                  phrases: Mapping | None = None, cache: dict | None = None) -> str:
    """The phrase for one account's value of `source` in `language` (zh-CN or en-US).

    `cache` (a dict the caller keeps for one batch) memoises phrases that depend only on the
    value and the currency: a night's reasons repeat the same few hundred phrases.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")
    template = template_for(source, value, language, phrases)
    if cache is None:
        return template.format_map(placeholders(value, row))
    fields = cache.get(template)
    if fields is None:
        fields = cache[template] = _fields(template)
    if not fields <= _VALUE_FIELDS:
        return template.format_map(placeholders(value, row))
    key = (template, value_text(value), row.get("currency") if "currency" in fields else None)
    text = cache.get(key)
    if text is None:
        text = cache[key] = template.format_map(placeholders(value, row))
    return text


class FrameRow(Mapping):
    """One row of a frame's columns, read on demand: a template reads two or three values of
    the account's row, and building every row as a dict cost more than the phrases."""

    __slots__ = ("_columns", "_index")

    def __init__(self, columns: Mapping[str, object], index: int):
        self._columns, self._index = columns, index

    def __getitem__(self, key: str):
        return self._columns[key][self._index]

    def __contains__(self, key) -> bool:
        return key in self._columns

    def __iter__(self):
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


def _value_key(value) -> tuple:
    if _is_missing(value):
        return ("missing",)
    return (type(value).__name__, value)


def render_reasons(source: str, value, row: Mapping, cache: dict) -> tuple[str, str]:
    """(zh-CN, en-US) phrases for one account's value of `source`, as render_reason gives them.

    Memoised on (source, value, currency) when neither language's template reads more of the
    row than the value and the currency: a night's reasons repeat a few hundred of them.
    """
    currency = row.get("currency")
    key = ("pair", source, _value_key(value), currency)
    pair = cache.get(key)
    if pair is not None:
        return pair
    pair = (render_reason(source, value, row, "zh-CN", cache=cache),
            render_reason(source, value, row, "en-US", cache=cache))
    if all(_fields(template_for(source, value, language)) <= _VALUE_FIELDS
           for language in LANGUAGES):
        cache[key] = pair
    return pair
