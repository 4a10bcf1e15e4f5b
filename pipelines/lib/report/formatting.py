"""Numbers and words for people: thousands separators, percentages with sensible decimals,
currency, and the reader's word for a warehouse value (status, channel, column, rule...)."""

from __future__ import annotations

import math

CURRENCY_SIGNS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "TWD": "NT$"}


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value, decimals: int = 0) -> str:
    if missing(value):
        return "–"
    return f"{value:,.{decimals}f}"


def percent(share, decimals: int | None = None) -> str:
    """A share as a percentage: two decimals below 1 %, one below 10 %, none above."""
    if missing(share):
        return "–"
    value = share * 100
    if decimals is None:
        shown = abs(round(value, 2))  # 0.9996 shows as 1.0%, not 1.00%
        decimals = 2 if shown < 1 else 1 if round(shown, 1) < 10 else 0
        if value == 0:
            decimals = 0
    return f"{value:,.{decimals}f}%"


def points(change) -> str:
    """A change of a share, in percentage points with its sign."""
    if missing(change):
        return "–"
    return f"{change * 100:+.2f} pp"


def money(value, currency: str = "", decimals: int = 0) -> str:
    if missing(value):
        return "–"
    sign = CURRENCY_SIGNS.get(currency, f"{currency} " if currency else "")
    return f"{'-' if value < 0 else ''}{sign}{abs(value):,.{decimals}f}"


def compact_money(value, currency: str = "", language: str = "en") -> str:
    """Large amounts in the reader's units: 万/亿 in Chinese, k/M/bn in English."""
    if missing(value):
        return "–"
    sign = CURRENCY_SIGNS.get(currency, f"{currency} " if currency else "")
    size = abs(value)
    if language.startswith("zh"):
        for unit, scale in (("亿", 1e8), ("万", 1e4)):
            if size >= scale:
                return f"{sign}{value / scale:,.2f}{unit}"
    else:
        for unit, scale in (("bn", 1e9), ("M", 1e6), ("k", 1e3)):
            if size >= scale:
                return f"{sign}{value / scale:,.2f}{unit}"
    return money(value, currency)


def change(value, reference, kind: str) -> str:
    """The change from `reference` to `value`: pp for rates, % for counts and amounts."""
    if missing(value) or missing(reference):
        return "–"
    if kind == "rate":
        return points(value - reference)
    if reference == 0:
        return "–" if value == 0 else "new"
    return f"{(value - reference) / abs(reference) * 100:+.1f}%"


def label(value, words: dict) -> str:
    """The reader's word for a value the warehouse stores as a key: an enum value (`values`), a
    column or model feature (`columns`), a contract rule `<column>_<check>` (`rule_checks`) or a
    one-hot feature `<column>_<value>`; anything else as it is."""
    if missing(value):
        return ""
    key = str(value)
    if key in words.get("values", {}):
        return words["values"][key]
    if key in words.get("columns", {}):
        return words["columns"][key]
    columns, values = words.get("columns", {}), words.get("values", {})
    for check, name in words.get("rule_checks", {}).items():
        column = key.removesuffix(f"_{check}")
        if column != key and column in columns:
            return words["rule_format"].format(column=columns[column], check=name)
    # a one-hot model feature, <column>_<value>: e.g. product_installment
    for column in sorted(columns, key=len, reverse=True):
        value = key.removeprefix(f"{column}_")
        if value != key and value in values:
            return words["rule_format"].format(column=columns[column], check=values[value])
    return key
