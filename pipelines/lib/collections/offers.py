"""Offers (issue 19): payment plans (分期/延期) and settlements (减免) the strategy's `offers:`
section defines, their lifecycle night by night, and the figures their letters print.

A treatment makes an offer when one of its contacts has the template `payment_plan_offer` or
`settlement_offer`. Each night, in order: acceptances and declines from `contact_outcomes`,
expiries, instalments followed from the snapshots' payments (a miss after the grace days breaks
the plan), the `payment_plan_active` suppression put on tonight's tier rows, then tonight's new
offers. The money is decided in SQL (decimals); `plan_instalments` and `settlement_amount` are
the same rules in Python, which the letter linter uses to recompute what a letter prints.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from models.buckets import BUCKETS
from pipelines.lib.warehouse import run_sql, table_exists, transaction

if TYPE_CHECKING:
    from pipelines.lib.collections.strategy import Strategy

TYPES = ("payment_plan", "settlement")
TEMPLATES = {"payment_plan_offer": "payment_plan", "settlement_offer": "settlement"}
CENT = Decimal("0.01")
_COMMON_KEYS = {"buckets", "min_balance", "first_due_days", "grace_days", "validity_days",
                "approval_levels", "cooldown_days"}
_KEYS = {"payment_plan": _COMMON_KEYS | {"max_balance", "instalments_allowed",
                                         "default_instalments", "interval_days"},
         "settlement": _COMMON_KEYS | {"default_waived_share"}}


# ------------------------------------------------------------------ money
def plan_instalments(balance: Decimal, count: int) -> list[Decimal]:
    """`count` instalments adding up to `balance` exactly: equal parts cut down to the cent, the
    last absorbing the rounding (1000.00 in 3: 333.33, 333.33, 333.34)."""
    balance = Decimal(balance)
    part = (balance / count).quantize(CENT, rounding=ROUND_DOWN)
    return [part] * (count - 1) + [balance - part * (count - 1)]


def settlement_amount(balance: Decimal, waived_share: Decimal) -> Decimal:
    """What settles the debt: balance x (1 - waived share), rounded half-up to the cent."""
    return (Decimal(balance) * (1 - Decimal(str(waived_share)))).quantize(
        CENT, rounding=ROUND_HALF_UP)


def settlement_level(levels: list[dict], waived_share: float) -> str | None:
    """The first approval level allowed to waive this share; None: above every level."""
    for level in levels:
        if waived_share <= level["max_waived_share"] + 1e-12:
            return level["level"]
    return None


# ------------------------------------------------------------------ validation
def _int(fail, path, value, key, low=0):
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        fail(path, key, f"expected a whole number >= {low}, got {value!r}")
    return value


def _amounts(fail, path, value, key):
    if not isinstance(value, dict) or not value:
        fail(path, key, f"expected one amount per currency, e.g. {{CNY: 1000}}, got {value!r}")
    for currency, amount in value.items():
        if not (isinstance(currency, str) and len(currency) == 3 and currency.isupper()):
            fail(path, f"{key}.{currency}", "expected an ISO 4217 currency code")
        if not isinstance(amount, int | float) or isinstance(amount, bool) or amount < 0:
            fail(path, f"{key}.{currency}", f"expected an amount >= 0, got {amount!r}")
    return value


def validate_offers(path, raw: dict, fail) -> None:
    """Check the strategy's `offers:` section (absent: no offers). `fail(path, key, message)`
    raises the strategy's error naming the key."""
    offers = raw.get("offers") or {}
    if not isinstance(offers, dict):
        fail(path, "offers", f"expected a mapping of {', '.join(TYPES)}")
    for kind, spec in offers.items():
        where = f"offers.{kind}"
        if kind not in TYPES:
            fail(path, where, f"unknown offer type (allowed: {', '.join(TYPES)})")
        if not isinstance(spec, dict):
            fail(path, where, "expected a mapping")
        unknown = sorted(set(spec) - _KEYS[kind])
        if unknown:
            fail(path, f"{where}.{unknown[0]}",
                 f"unknown key (allowed: {', '.join(sorted(_KEYS[kind]))})")
        for key in ("buckets", "min_balance", "first_due_days", "grace_days", "validity_days",
                    "approval_levels"):
            if key not in spec:
                fail(path, f"{where}.{key}", "missing")
        buckets = spec["buckets"]
        if not isinstance(buckets, list) or not buckets or any(b not in BUCKETS for b in buckets):
            fail(path, f"{where}.buckets", f"expected a list of buckets ({', '.join(BUCKETS)})")
        _amounts(fail, path, spec["min_balance"], f"{where}.min_balance")
        for key in ("first_due_days", "grace_days", "validity_days"):
            _int(fail, path, spec[key], f"{where}.{key}")
        _int(fail, path, spec.get("cooldown_days", 0), f"{where}.cooldown_days")
        levels = spec["approval_levels"]
        if not isinstance(levels, list) or not levels:
            fail(path, f"{where}.approval_levels", "expected a list of levels")
        limit_key = "max_balance" if kind == "payment_plan" else "max_waived_share"
        for i, level in enumerate(levels):
            lwhere = f"{where}.approval_levels[{i}]"
            if not isinstance(level, dict) or set(level) != {"level", limit_key}:
                fail(path, lwhere, f"expected {{level: <name>, {limit_key}: ...}}, got {level!r}")
            if not isinstance(level["level"], str) or not level["level"]:
                fail(path, f"{lwhere}.level", "expected a name")
            if kind == "settlement":
                share = level[limit_key]
                if not isinstance(share, int | float) or isinstance(share, bool) \
                        or not 0 <= share < 1:
                    fail(path, f"{lwhere}.{limit_key}", f"expected a share in [0, 1), got {share!r}")
            else:
                _amounts(fail, path, level[limit_key], f"{lwhere}.{limit_key}")
        if kind == "payment_plan":
            for key in ("max_balance", "instalments_allowed", "default_instalments",
                        "interval_days"):
                if key not in spec:
                    fail(path, f"{where}.{key}", "missing")
            _amounts(fail, path, spec["max_balance"], f"{where}.max_balance")
            allowed = spec["instalments_allowed"]
            if not isinstance(allowed, list) or not allowed or any(
                    not isinstance(n, int) or isinstance(n, bool) or n < 2 for n in allowed):
                fail(path, f"{where}.instalments_allowed",
                     f"expected a list of instalment counts >= 2, got {allowed!r}")
            if spec["default_instalments"] not in allowed:
                fail(path, f"{where}.default_instalments",
                     f"{spec['default_instalments']!r} is not in instalments_allowed {allowed}")
            _int(fail, path, spec["interval_days"], f"{where}.interval_days", 1)
        else:
            share = spec.get("default_waived_share")
            if not isinstance(share, int | float) or isinstance(share, bool) or not 0 <= share < 1:
                fail(path, f"{where}.default_waived_share",
                     f"expected a share in [0, 1), got {share!r}")
            if settlement_level(levels, share) is None:
                top = max(level["max_waived_share"] for level in levels)
                fail(path, f"{where}.default_waived_share",
                     f"waiving {share:.0%} is above every approval level's limit "
                     f"(the largest is {top:.0%}): refused")
    for key, spec in (raw.get("treatments") or {}).items():
        for i, contact in enumerate(spec.get("contacts", [])):
            kind = TEMPLATES.get(contact.get("template"))
            where = f"treatments.{key}.contacts[{i}]"
            if kind is not None and contact.get("channel") != "letter":
                fail(path, f"{where}.channel", "an offer is made by a print letter (letter)")
            if kind is not None and kind not in offers:
                fail(path, f"{where}.template", f"offers.{kind} is not defined")


def offer_treatments(raw: dict) -> dict[str, str]:
    """Treatment name -> the offer type its contacts make (a treatment makes one type)."""
    found: dict[str, str] = {}
    for spec in (raw.get("treatments") or {}).values():
        for contact in spec.get("contacts", []):
            kind = TEMPLATES.get(contact.get("template"))
            if kind is not None:
                found[spec["name"]] = kind
    return found


# ------------------------------------------------------------------ strategy as tables
def rules_table(strategy: Strategy) -> pa.Table:
    """One row per (offer type, currency) the section names."""
    offers = strategy.raw.get("offers") or {}
    rows = []
    for kind, spec in offers.items():
        share = spec.get("default_waived_share")
        for currency, low in spec["min_balance"].items():
            rows.append({
                "type": kind, "currency": currency, "buckets": list(spec["buckets"]),
                "min_balance": str(low),
                "max_balance": (str(spec["max_balance"][currency])
                                if currency in spec.get("max_balance", {}) else None),
                "instalments": spec.get("default_instalments", 1),
                "waived_share": None if share is None else str(share),
                "approval_level": (settlement_level(spec["approval_levels"], share)
                                   if kind == "settlement" else None),
                "first_due_days": spec["first_due_days"],
                "interval_days": spec.get("interval_days", 0),
                "grace_days": spec["grace_days"], "validity_days": spec["validity_days"],
                "cooldown_days": spec.get("cooldown_days", 0)})
    return pa.Table.from_pylist(rows, schema=pa.schema([
        ("type", pa.string()), ("currency", pa.string()), ("buckets", pa.list_(pa.string())),
        ("min_balance", pa.string()), ("max_balance", pa.string()), ("instalments", pa.int32()),
        ("waived_share", pa.string()), ("approval_level", pa.string()),
        ("first_due_days", pa.int32()), ("interval_days", pa.int32()),
        ("grace_days", pa.int32()), ("validity_days", pa.int32()),
        ("cooldown_days", pa.int32())]))


def levels_table(strategy: Strategy) -> pa.Table:
    """Payment-plan approval levels: (currency, order, level, max_balance)."""
    spec = (strategy.raw.get("offers") or {}).get("payment_plan")
    rows = [] if spec is None else [
        {"currency": currency, "level_order": i, "level": level["level"], "max_balance": str(limit)}
        for i, level in enumerate(spec["approval_levels"])
        for currency, limit in level["max_balance"].items()]
    return pa.Table.from_pylist(rows, schema=pa.schema([
        ("currency", pa.string()), ("level_order", pa.int32()), ("level", pa.string()),
        ("max_balance", pa.string())]))


def treatments_table(strategy: Strategy) -> pa.Table:
    rows = [{"treatment": t, "type": k} for t, k in offer_treatments(strategy.raw).items()]
    return pa.Table.from_pylist(rows, schema=pa.schema([("treatment", pa.string()),
                                                        ("type", pa.string())]))


def register(conn: duckdb.DuckDBPyConnection, strategy: Strategy) -> None:
    conn.register("offer_rules", rules_table(strategy))
    conn.register("offer_approval_levels", levels_table(strategy))
    conn.register("offer_treatments", treatments_table(strategy))


# ------------------------------------------------------------------ the nightly run
def ensure_tables(conn: duckdb.DuckDBPyConnection) -> None:
    run_sql(conn, "collections/offers/create_offers")
    run_sql(conn, "collections/offers/create_offer_instalments")


def run_night(conn: duckdb.DuckDBPyConnection, strategy: Strategy, night: date) -> dict:
    """One night of the offers' lifecycle; returns the night's counts (no personal data)."""
    ensure_tables(conn)
    register(conn, strategy)
    params = {"night": night, "strategy_version": strategy.version}
    # contact_outcomes is an optional feed: before it lands nothing is accepted or declined
    decisions = ("decide_offers", "schedule_instalments") \
        if table_exists(conn, "contact_outcomes") else ()
    with transaction(conn):
        for step in (*decisions, "expire_offers",
                     "follow_instalments", "close_offers", "suppress_running_plans",
                     "make_offers"):
            run_sql(conn, f"collections/offers/{step}", params)
        counts = run_sql(conn, "collections/offers/night_counts", params).fetchall()
    return {status: int(n) for status, n in counts}


def run_nights(conn: duckdb.DuckDBPyConnection, strategy: Strategy, start: date,
               end: date) -> dict[date, dict]:
    out, night = {}, start
    while night <= end:
        out[night] = run_night(conn, strategy, night)
        night += timedelta(days=1)
    return out


# ------------------------------------------------------------------ letter fields
def _date_text(day: date, locale: str) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if locale == "zh-CN" \
        else day.strftime("%B %-d, %Y")


OFFER_FIELDS = ("offer_id", "offer_type", "offer_balance_text", "offer_instalments",
                "offer_schedule", "offer_settlement_amount_text", "offer_waived_share_text",
                "offer_valid_until_text", "offer_terms")


def add_letter_fields(conn: duckdb.DuckDBPyConnection, night: date, rows: list[dict]) -> None:
    """Give each offer letter its account's open offer of the template's type (the figures it
    prints, formatted, and `offer_terms`: the offers row itself, for the linter); every other
    row gets the same keys, empty."""
    empty = dict.fromkeys(OFFER_FIELDS)
    wanted = [r for r in rows if r.get("template") in TEMPLATES]
    for row in rows:
        row.update(empty)
    for row in wanted:
        # with no offer it still renders, and the linter holds it (offer_terms): a data fault,
        # not the template's, so it never blocks the batch
        row["offer_schedule"] = []
    if not wanted or not table_exists(conn, "offers"):
        return
    cursor = run_sql(conn, "collections/offers/offers_for_letters", {"night": night})
    names = [d[0] for d in cursor.description]
    found: dict[tuple[str, str], dict] = {}
    for values in cursor.fetchall():
        offer = dict(zip(names, values, strict=True))
        found.setdefault((offer["account_id"], offer["type"]), offer)
    for row in wanted:
        offer = found.get((row["account_id"], TEMPLATES[row["template"]]))
        if offer is None:
            continue
        locale = row["locale"]
        schedule = [{"number": n, "amount_text": f"{a:,.2f}"}
                    for n, a in enumerate(offer["amounts"] or [], start=1)]
        waived = offer["waived_share"]
        row.update({
            "offer_id": offer["offer_id"], "offer_type": offer["type"],
            "offer_balance_text": f"{offer['balance_at_offer']:,.2f}",
            "offer_instalments": offer["instalments"],
            "offer_schedule": schedule,
            "offer_settlement_amount_text": (f"{offer['settlement_amount']:,.2f}"
                                             if offer["settlement_amount"] is not None else None),
            "offer_waived_share_text": (f"{Decimal(waived) * 100:.0f}%"
                                        if waived is not None else None),
            "offer_valid_until_text": _date_text(offer["valid_until"], locale),
            "offer_terms": offer,
        })
