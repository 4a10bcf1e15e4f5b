"""The collection strategy (`pipelines/config/collection_strategy.yaml`): load, validate, expose.

Every error names the key that is wrong, so an operations analyst editing the YAML can fix it
without reading code. The strategy's rules reach SQL as small registered tables (values, never SQL
text), so a strategy change never means a code change.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import yaml

from models.buckets import BUCKETS
from pipelines import settings
from pipelines.lib.collections.agency_strategy import (
    AgencyStrategy,
    AgencyStrategyError,
    parse_agencies,
)
from pipelines.lib.collections.offers import validate_offers

STRATEGY_PATH = settings.REPO_ROOT / "pipelines" / "config" / "collection_strategy.yaml"
TIERS = ("T0", "T1", "T2", "T3", "T4", "T5")
CHANNELS = ("sms", "email", "letter", "phone", "review")
MESSAGE_CHANNELS = ("sms", "email", "letter")
TASK_CHANNELS = ("phone", "review")
# a debtor rests from calls after this many nights in a row with a call task since the latest
# right-party contact, or this many in any case; then for rest_nights nights
PHONE_CADENCE = ("max_nights_without_contact", "max_nights", "rest_nights")
ACCOUNT_SUPPRESSIONS = ("deceased", "bankruptcy", "do_not_contact", "open_dispute", "complaint",
                        "promise_to_pay", "paid_to_current", "payment_plan_active")
CHANNEL_SUPPRESSIONS = ("opt_out", "hardship", "bad_destination")
# optional in the file (issue 19): while an outside agency holds the account, no own contact
AGENCY_SUPPRESSIONS = ("placed_with_agency",)
# Not a strategy choice: an account whose holder has no customer record landed has nobody to write
# to or call; it is held with this reason (after the legal stops) so operations chase the record.
DATA_SUPPRESSIONS = ("no_customer_record",)
LOCALES = ("zh-CN", "en-US")
LENDER_KEYS = ("name", "address", "repayment_channels", "account_check", "dispute_contact",
               "dispute_evidence", "regulator", "hotline", "sms_signature", "opt_out_url")
BREAKDOWN_MISSING = ("per_statement", "hold")
# how a bucket's "high risk" is decided: the top share of its scored accounts by probability, a
# probability cut-off, or risk grades (the older `high_risk_grades`, every bucket alike)
HIGH_RISK_KINDS = ("top_share", "min_probability", "grades")
GRADES = ("A", "B", "C", "D", "E")
OVER_LIMIT = ("freeze", "none")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class StrategyError(ValueError):
    """The strategy file is invalid; the message names the key."""


@dataclass(frozen=True)
class Contact:
    tier: str
    treatment: str
    order: int
    channel: str
    template: str | None
    queue: str | None
    priority: int | None
    every_days: int | None
    once_per_tier_entry: bool


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    allowed_start: str
    allowed_end: str
    send_time: dict[str, str]
    message_caps: dict[str, tuple[int, int]]  # channel -> (max, window_days)
    calls: dict[str, int]
    validation_period_days: int | None
    time_barred_after_days: int | None
    lender: dict[str, object]
    letter_locales: tuple[str, ...]
    template_overrides: dict[str, str]
    # channel -> {"url" | "text": per-locale or one value} for the channels that offer an opt-out
    opt_outs: dict[str, dict] = field(default_factory=dict)
    opt_out_expires_after_days: int | None = None
    delivery: dict[str, tuple[str, int]] = field(default_factory=dict)  # channel -> (unit, n)
    non_working_days: frozenset = frozenset()

    def lender_for(self, locale: str) -> dict[str, object]:
        """The lender block with every per-locale field resolved for `locale`."""
        return {key: value[locale] if isinstance(value, dict) and locale in value else value
                for key, value in self.lender.items()}

    def opt_out(self, channel: str, locale: str | None = None) -> dict | None:
        """What the channel's opt-out says and where it goes, or None where the jurisdiction's
        collection contacts carry none (China: service notices and demands)."""
        spec = self.opt_outs.get(channel)
        if spec is None:
            return None
        resolved = {key: value.get(locale, next(iter(value.values())))
                    if isinstance(value, dict) else value for key, value in spec.items()}
        return resolved | {"expires_after_days": self.opt_out_expires_after_days}

    def delivery_date(self, channel: str, send_day: date) -> date:
        """When a contact sent on `send_day` is expected in the customer's hands: amounts due by
        then are stated as past due and the deadline counts from it."""
        unit, count = self.delivery.get(channel, ("days", 0))
        if unit == "days":
            return send_day + timedelta(days=count)
        day = send_day
        while count > 0:
            day += timedelta(days=1)
            if day.isoweekday() < 6 and day not in self.non_working_days:
                count -= 1
        return day


@dataclass(frozen=True)
class Strategy:
    version: str
    path: Path
    raw: dict = field(repr=False)
    # the older strategy key: grades high risk in every bucket; () when `high_risk` is used
    high_risk_grades: tuple[str, ...]
    tier_rules: tuple[dict, ...]
    contacts: tuple[Contact, ...]
    treatment_names: dict[str, str]
    suppression_lookback: dict[str, int | None]
    jurisdictions: dict[str, Jurisdiction]
    default_jurisdiction: str
    payment_deadline_days: int
    sms_max_segments: int
    credit_line: dict
    cure_windows_days: tuple[int, ...]
    # what a letter does when the lender sends no past-due breakdown: print the total "per your
    # statement", or hold the contact (rule breakdown_missing)
    breakdown_missing: str = "per_statement"
    # jurisdiction -> queue -> tasks its staff work a night (agents x tasks_per_agent); None:
    # unlimited, said so in the file
    queue_capacity: dict[str, dict[str, int | None]] = field(default_factory=dict)
    # when a debtor rests from calls: max_nights_without_contact, max_nights, rest_nights
    # (PHONE_CADENCE); empty: never
    phone_cadence: dict[str, int] = field(default_factory=dict)
    # bucket -> {kind: value}, kind one of HIGH_RISK_KINDS; a bucket not listed is never high risk
    high_risk: dict[str, dict] = field(default_factory=dict)
    # outside agencies and the legal track (agency_strategy.py); None: nothing is placed
    agencies: AgencyStrategy | None = None

    def jurisdiction(self, country: str | None) -> Jurisdiction:
        return self.jurisdictions.get(country or "", self.jurisdictions[self.default_jurisdiction])

    # ------------------------------------------------------------------ tables for SQL
    def tier_rules_table(self) -> pa.Table:
        """One row per (rule, bucket, currency): tiering joins on the bucket, then keeps the
        first rule. A rule with balance limits has a row per currency it names (currency null:
        any), so a balance is only ever compared with an amount in its own currency and an
        account in a currency the rule does not name does not match it."""
        rows = []
        for order, rule in enumerate(self.tier_rules):
            low, high = rule.get("min_balance") or {}, rule.get("max_balance") or {}
            currencies = sorted(set(low) | set(high)) or [None]
            for bucket in rule["buckets"]:
                for currency in currencies:
                    rows.append({
                        "rule_order": order, "bucket": bucket, "tier": rule["tier"],
                        "treatment": self.treatment_names[rule.get("treatment", rule["tier"])],
                        "risk": rule.get("risk"), "currency": currency,
                        "min_balance": low.get(currency), "max_balance": high.get(currency),
                        "early_warning": rule.get("early_warning"),
                        "due_within_days": rule.get("due_within_days"),
                    })
        return pa.Table.from_pylist(rows, schema=pa.schema([
            ("rule_order", pa.int32()), ("bucket", pa.string()), ("tier", pa.string()),
            ("treatment", pa.string()), ("risk", pa.string()), ("currency", pa.string()),
            ("min_balance", pa.float64()), ("max_balance", pa.float64()),
            ("early_warning", pa.bool_()), ("due_within_days", pa.int32())]))

    def high_risk_table(self) -> pa.Table:
        """One row per bucket with a high-risk rule (the kind's column set, the others null)."""
        rows = [{"bucket": bucket, "top_share": rule.get("top_share"),
                 "min_probability": rule.get("min_probability"),
                 "grades": list(rule["grades"]) if "grades" in rule else None}
                for bucket, rule in self.high_risk.items()]
        return pa.Table.from_pylist(rows, schema=pa.schema([
            ("bucket", pa.string()), ("top_share", pa.float64()),
            ("min_probability", pa.float64()), ("grades", pa.list_(pa.string()))]))

    def credit_line_table(self) -> pa.Table:
        """Per currency of `credit_line.reduce.round_to`, the step a reduced limit is rounded up
        to (a currency not listed: 0.01, no rounding)."""
        rows = [{"currency": c, "round_to": float(v)}
                for c, v in self.credit_line["reduce"]["round_to"].items()]
        return pa.Table.from_pylist(rows, schema=pa.schema([
            ("currency", pa.string()), ("round_to", pa.float64())]))

    def suppression_table(self) -> pa.Table:
        reasons = (ACCOUNT_SUPPRESSIONS[:3] + DATA_SUPPRESSIONS + ACCOUNT_SUPPRESSIONS[3:]
                   + AGENCY_SUPPRESSIONS + CHANNEL_SUPPRESSIONS)
        return pa.Table.from_pylist(
            [{"reason": r, "priority": i, "lookback_days": self.suppression_lookback.get(r)}
             for i, r in enumerate(reasons)],
            schema=pa.schema([("reason", pa.string()), ("priority", pa.int32()),
                              ("lookback_days", pa.int32())]))

    def contacts_table(self, template_versions: dict[tuple[str, str, str], str]) -> pa.Table:
        """Treatment contacts x jurisdiction x locale, with the template and its version.

        `template_versions` maps (channel, template, locale) to the version; a message contact
        whose template is missing for a locale falls back to the jurisdiction's first letter
        locale (print) or to zh-CN / en-US by jurisdiction.
        """
        rows = []
        for code, jurisdiction in self.jurisdictions.items():
            for contact in self.contacts:
                template = jurisdiction.template_overrides.get(
                    f"{contact.channel}/{contact.template}", contact.template)
                for locale in LOCALES:
                    used_locale = locale
                    if contact.channel == "letter" and locale not in jurisdiction.letter_locales:
                        used_locale = jurisdiction.letter_locales[0]
                    version = None
                    if contact.channel in MESSAGE_CHANNELS:
                        version = template_versions.get((contact.channel, template, used_locale))
                        if version is None:
                            raise StrategyError(
                                f"{self.path.name}: treatments.{contact.tier}: no template "
                                f"reports/letters/{contact.channel}/{template}.{used_locale} "
                                f"(jurisdiction {code})")
                    send = jurisdiction.send_time[contact.channel]
                    rows.append({
                        "jurisdiction": code, "preferred_language": locale, "tier": contact.tier,
                        "treatment": contact.treatment, "contact_order": contact.order,
                        "channel": contact.channel, "template": template if version else None,
                        "locale": used_locale if version else locale,
                        "template_version": version, "queue": contact.queue,
                        "priority": contact.priority, "every_days": contact.every_days,
                        "once_per_tier_entry": contact.once_per_tier_entry,
                        "send_minutes": int(send[:2]) * 60 + int(send[3:]),
                        "cap_max": jurisdiction.message_caps.get(contact.channel, (None, None))[0],
                        "cap_window_days": jurisdiction.message_caps.get(
                            contact.channel, (None, None))[1],
                        "queue_capacity": self.queue_capacity.get(code, {}).get(contact.queue),
                        **{key: self.phone_cadence.get(key) if contact.channel == "phone"
                           else None for key in PHONE_CADENCE},
                    })
        table = pa.Table.from_pylist(rows)
        for name in ("queue_capacity", *PHONE_CADENCE):  # all null: unlimited, no rest
            table = table.set_column(table.schema.get_field_index(name), name,
                                     table.column(name).cast(pa.int64()))
        return table

    def jurisdictions_table(self) -> pa.Table:
        rows = []
        for code, j in self.jurisdictions.items():
            rows.append({
                "jurisdiction": code,
                "is_default": code == self.default_jurisdiction,
                "default_locale": j.letter_locales[0],
                "max_calls_per_7_days": j.calls.get("max_calls_per_7_days"),
                "days_after_conversation": j.calls.get("days_after_conversation"),
                "max_connected_per_day": j.calls.get("max_connected_per_day"),
                "max_attempts_per_number_per_day": j.calls.get("max_attempts_per_number_per_day"),
                "validation_period_days": j.validation_period_days,
                "time_barred_after_days": j.time_barred_after_days,
                "allowed_start": j.allowed_start, "allowed_end": j.allowed_end,
                "opt_out_expires_after_days": j.opt_out_expires_after_days,
            })
        return pa.Table.from_pylist(rows, schema=pa.schema([
            ("jurisdiction", pa.string()), ("is_default", pa.bool_()),
            ("default_locale", pa.string()),
            ("max_calls_per_7_days", pa.int32()), ("days_after_conversation", pa.int32()),
            ("max_connected_per_day", pa.int32()),
            ("max_attempts_per_number_per_day", pa.int32()),
            ("validation_period_days", pa.int32()), ("time_barred_after_days", pa.int32()),
            ("allowed_start", pa.string()), ("allowed_end", pa.string()),
            ("opt_out_expires_after_days", pa.int32())]))

    def delivery_table(self, night: date) -> pa.Table:
        """Per jurisdiction and message channel, the night's send day and expected delivery day
        (contacts go out the day after the night)."""
        send_day = night + timedelta(days=1)
        rows = [{"jurisdiction": code, "channel": channel, "send_date": send_day,
                 "delivery_date": j.delivery_date(channel, send_day)}
                for code, j in self.jurisdictions.items() for channel in MESSAGE_CHANNELS]
        return pa.Table.from_pylist(rows, schema=pa.schema([
            ("jurisdiction", pa.string()), ("channel", pa.string()), ("send_date", pa.date32()),
            ("delivery_date", pa.date32())]))


# ---------------------------------------------------------------------- validation helpers
def _fail(path: Path, key: str, message: str):
    raise StrategyError(f"{path.name}: {key}: {message}")


def _require(path: Path, mapping: dict, key: str, where: str, kind=None):
    if not isinstance(mapping, dict) or key not in mapping:
        _fail(path, f"{where}.{key}" if where else key, "missing")
    value = mapping[key]
    if kind is not None and not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        _fail(path, f"{where}.{key}" if where else key,
              f"expected {names}, got {type(value).__name__} {value!r}")
    return value


def _check_keys(path: Path, mapping: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        _fail(path, f"{where}.{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _non_negative_int(path: Path, value, key: str, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        _fail(path, key, f"expected a whole number >= 0, got {value!r}")
    return value


def _tier_rules(path: Path, raw: dict) -> tuple[dict, ...]:
    rules = _require(path, raw, "tiers", "", list)
    allowed = {"tier", "name", "buckets", "risk", "min_balance", "max_balance", "early_warning",
               "due_within_days", "treatment"}
    for i, rule in enumerate(rules):
        where = f"tiers[{i}]"
        if not isinstance(rule, dict):
            _fail(path, where, f"expected a mapping, got {rule!r}")
        _check_keys(path, rule, allowed, where)
        tier = _require(path, rule, "tier", where, str)
        if tier not in TIERS:
            _fail(path, f"{where}.tier", f"unknown tier {tier!r} (expected {', '.join(TIERS)})")
        buckets = _require(path, rule, "buckets", where, list)
        for bucket in buckets:
            if bucket not in BUCKETS:
                _fail(path, f"{where}.buckets", f"unknown bucket {bucket!r} (expected "
                      f"{', '.join(BUCKETS)})")
        if rule.get("risk") not in (None, "high", "low"):
            _fail(path, f"{where}.risk", f"expected high or low, got {rule['risk']!r}")
        for key in ("min_balance", "max_balance"):
            _balances(path, rule.get(key), f"{where}.{key}")
        if rule.get("treatment") is not None and not isinstance(rule["treatment"], str):
            _fail(path, f"{where}.treatment", f"expected a treatments key, got "
                  f"{rule['treatment']!r}")
        if rule.get("early_warning") not in (None, True, False):
            _fail(path, f"{where}.early_warning", f"expected true or false, got "
                  f"{rule['early_warning']!r}")
        _non_negative_int(path, rule.get("due_within_days"), f"{where}.due_within_days", True)
    return tuple(rules)


def _balances(path: Path, value, key: str) -> None:
    """A balance limit: one amount per currency, never one number for every currency."""
    if value is None:
        return
    if not isinstance(value, dict) or not value:
        _fail(path, key, f"expected one amount per currency, e.g. {{CNY: 3000, USD: 400}} "
              f"(balances are in the account's currency), got {value!r}")
    for currency, amount in value.items():
        if not isinstance(currency, str) or not _CURRENCY.match(currency):
            _fail(path, key, f"expected ISO 4217 currency codes, got {currency!r}")
        if not isinstance(amount, int | float) or isinstance(amount, bool) or amount < 0:
            _fail(path, f"{key}.{currency}", f"expected an amount >= 0, got {amount!r}")


def _treatments(path: Path, raw: dict, rules: tuple[dict, ...]):
    """Treatments keyed by tier (the tier's treatment) or by any other name a tier rule gives as
    its `treatment` (e.g. a watch for early warnings with no payment due)."""
    treatments = _require(path, raw, "treatments", "", dict)
    contacts, names = [], {}
    for i, rule in enumerate(rules):
        key = rule.get("treatment", rule["tier"])
        if key not in treatments:
            where = f"tiers[{i}].treatment" if "treatment" in rule else f"treatments.{key}"
            _fail(path, where, f"missing: a tier rule assigns treatment {key!r}")
    for tier, spec in treatments.items():
        where = f"treatments.{tier}"
        if not isinstance(tier, str) or not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", tier):
            _fail(path, where, f"expected a tier ({', '.join(TIERS)}) or a name, got {tier!r}")
        _check_keys(path, spec, {"name", "contacts"}, where)
        names[tier] = _require(path, spec, "name", where, str)
        if list(names.values()).count(names[tier]) > 1:
            _fail(path, f"{where}.name", f"{names[tier]!r} names another treatment too (contacts "
                  "are planned by treatment name)")
        for i, contact in enumerate(_require(path, spec, "contacts", where, list)):
            cwhere = f"{where}.contacts[{i}]"
            _check_keys(path, contact, {"channel", "template", "queue", "priority", "cadence"},
                        cwhere)
            channel = _require(path, contact, "channel", cwhere, str)
            if channel not in CHANNELS:
                _fail(path, f"{cwhere}.channel", f"unknown channel {channel!r} (expected "
                      f"{', '.join(CHANNELS)})")
            template = contact.get("template")
            if channel in MESSAGE_CHANNELS and not isinstance(template, str):
                _fail(path, f"{cwhere}.template", f"a {channel} contact needs a template")
            queue = contact.get("queue")
            if channel in TASK_CHANNELS and not isinstance(queue, str):
                _fail(path, f"{cwhere}.queue", f"a {channel} task needs a queue")
            cadence = _require(path, contact, "cadence", cwhere)
            if cadence == "once_per_tier_entry":
                every, once = None, True
            elif isinstance(cadence, dict) and set(cadence) == {"every_days"}:
                every = _non_negative_int(path, cadence["every_days"], f"{cwhere}.cadence.every_days")
                if every < 1:
                    _fail(path, f"{cwhere}.cadence.every_days", "expected at least 1")
                once = False
            else:
                _fail(path, f"{cwhere}.cadence",
                      f"expected once_per_tier_entry or {{every_days: N}}, got {cadence!r}")
            priority = _non_negative_int(path, contact.get("priority"), f"{cwhere}.priority", True)
            contacts.append(Contact(tier, names[tier], i, channel, template, queue, priority,
                                    every, once))
    return tuple(contacts), names


def _jurisdiction(path: Path, code: str, spec: dict) -> Jurisdiction:
    where = f"jurisdictions.{code}"
    _check_keys(path, spec, {"allowed_hours", "send_time", "caps", "validation_period_days",
                             "time_barred_after_days", "lender", "letter_locales",
                             "template_overrides", "opt_out", "delivery", "non_working_days"},
                 where)
    hours = _require(path, spec, "allowed_hours", where, dict)
    for key in ("start", "end"):
        if not _TIME.match(str(_require(path, hours, key, f"{where}.allowed_hours"))):
            _fail(path, f"{where}.allowed_hours.{key}", f"expected HH:MM, got {hours[key]!r}")
    if hours["start"] >= hours["end"]:
        _fail(path, f"{where}.allowed_hours", "start must be before end")
    send = _require(path, spec, "send_time", where, dict)
    for channel in CHANNELS:
        value = str(_require(path, send, channel, f"{where}.send_time"))
        if not _TIME.match(value):
            _fail(path, f"{where}.send_time.{channel}", f"expected HH:MM, got {value!r}")
        if channel != "review" and not hours["start"] <= value < hours["end"]:
            _fail(path, f"{where}.send_time.{channel}",
                  f"{value} is outside allowed_hours {hours['start']}-{hours['end']}")
    caps = _require(path, spec, "caps", where, dict)
    messages = {}
    for channel, cap in _require(path, caps, "messages", f"{where}.caps", dict).items():
        cwhere = f"{where}.caps.messages.{channel}"
        if channel not in MESSAGE_CHANNELS:
            _fail(path, cwhere, f"unknown message channel (expected {', '.join(MESSAGE_CHANNELS)})")
        messages[channel] = (
            _non_negative_int(path, _require(path, cap, "max", cwhere), f"{cwhere}.max"),
            _non_negative_int(path, _require(path, cap, "window_days", cwhere),
                              f"{cwhere}.window_days"))
    calls = _require(path, caps, "calls", f"{where}.caps", dict)
    call_keys = {"max_calls_per_7_days", "days_after_conversation", "max_connected_per_day",
                 "max_attempts_per_number_per_day"}
    _check_keys(path, calls, call_keys, f"{where}.caps.calls")
    for key, value in calls.items():
        _non_negative_int(path, value, f"{where}.caps.calls.{key}")
    lender = _require(path, spec, "lender", where, dict)
    for key in LENDER_KEYS:
        value = _require(path, lender, key, f"{where}.lender")
        per_locale = value if isinstance(value, dict) else {locale: value for locale in LOCALES}
        for locale in LOCALES:
            if locale not in per_locale:
                _fail(path, f"{where}.lender.{key}.{locale}", "missing (give one text, or one "
                      "per locale: zh-CN and en-US)")
            if key == "repayment_channels" and (not isinstance(per_locale[locale], list)
                                                or not per_locale[locale]):
                _fail(path, f"{where}.lender.{key}", "expected a non-empty list")
    seal = lender.get("seal_image")
    if seal is not None:
        lender = dict(lender, seal_image=_seal_uri(path, f"{where}.lender.seal_image", seal))
    opt_outs, expires = _opt_outs(path, spec.get("opt_out") or {}, f"{where}.opt_out")
    delivery = _delivery(path, _require(path, spec, "delivery", where, dict), f"{where}.delivery")
    holidays = set()
    for value in spec.get("non_working_days") or []:
        if not isinstance(value, date):
            _fail(path, f"{where}.non_working_days", f"expected dates YYYY-MM-DD, got {value!r}")
        holidays.add(value)
    letter_locales = tuple(spec.get("letter_locales") or LOCALES)
    for locale in letter_locales:
        if locale not in LOCALES:
            _fail(path, f"{where}.letter_locales", f"unknown locale {locale!r}")
    return Jurisdiction(
        code=code, allowed_start=hours["start"], allowed_end=hours["end"],
        send_time={k: str(v) for k, v in send.items()}, message_caps=messages, calls=calls,
        validation_period_days=_non_negative_int(path, spec.get("validation_period_days"),
                                                 f"{where}.validation_period_days", True),
        time_barred_after_days=_non_negative_int(path, spec.get("time_barred_after_days"),
                                                 f"{where}.time_barred_after_days", True),
        lender=lender, letter_locales=letter_locales,
        template_overrides=dict(spec.get("template_overrides") or {}),
        opt_outs=opt_outs, opt_out_expires_after_days=expires, delivery=delivery,
        non_working_days=frozenset(holidays))


def _seal_uri(path: Path, key: str, value) -> str:
    """The seal as a data: URI, so every rendered letter carries its own image (no file to
    resolve at print time, and the letter's sha256 covers the seal). A relative path is looked
    up beside the strategy file, then beside the repository's."""
    candidates = (path.parent / str(value), STRATEGY_PATH.parent / str(value))
    seal = next((c for c in candidates if c.is_file()), candidates[0])
    if seal.suffix != ".svg" or not seal.is_file():
        _fail(path, key, f"expected an .svg file next to the strategy, got {value!r}")
    encoded = base64.b64encode(seal.read_bytes()).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"


def _opt_outs(path: Path, spec: dict, where: str) -> tuple[dict[str, dict], int | None]:
    if not isinstance(spec, dict):
        _fail(path, where, f"expected a mapping, got {spec!r}")
    _check_keys(path, spec, {"sms", "email", "expires_after_days"}, where)
    offered = {}
    for channel, wanted in (("sms", "text"), ("email", "url")):
        value = spec.get(channel)
        if value is None:
            continue
        if not isinstance(value, dict):
            _fail(path, f"{where}.{channel}", f"expected a mapping or null, got {value!r}")
        _check_keys(path, value, {"text", "url"}, f"{where}.{channel}")
        _require(path, value, wanted, f"{where}.{channel}")
        if channel == "email" and not str(value["url"]).startswith("https://"):
            _fail(path, f"{where}.email.url", "a one-click unsubscribe (RFC 8058) needs https://")
        offered[channel] = value
    expires = _non_negative_int(path, spec.get("expires_after_days"),
                                f"{where}.expires_after_days", True)
    return offered, expires


def _delivery(path: Path, spec: dict, where: str) -> dict[str, tuple[str, int]]:
    lags = {}
    for channel in MESSAGE_CHANNELS:
        value = _require(path, spec, channel, where, dict)
        if len(value) != 1 or next(iter(value)) not in ("days", "working_days"):
            _fail(path, f"{where}.{channel}", f"expected {{days: N}} or {{working_days: N}}, "
                  f"got {value!r}")
        unit, count = next(iter(value.items()))
        lags[channel] = (unit, _non_negative_int(path, count, f"{where}.{channel}.{unit}"))
    _check_keys(path, spec, set(MESSAGE_CHANNELS), where)
    return lags


def _queues(path: Path, raw: dict, contacts, jurisdictions: set[str]
            ) -> dict[str, dict[str, int | None]]:
    """Each jurisdiction's nightly capacity per work-list queue. Every queue a treatment sends
    tasks to needs one in every jurisdiction (a forgotten queue is an error, not unlimited);
    `unlimited` says so on purpose."""
    used = sorted({c.queue for c in contacts if c.channel in TASK_CHANNELS})
    spec = raw.get("queues")
    if spec is None:
        if used:
            _fail(path, "queues", f"missing: treatments send tasks to {', '.join(used)}; give "
                  "each a capacity per jurisdiction ({agents: N, tasks_per_agent: N} or "
                  "unlimited)")
        return {}
    if not isinstance(spec, dict):
        _fail(path, "queues", f"expected a mapping of jurisdictions, got {spec!r}")
    _check_keys(path, spec, jurisdictions, "queues")
    capacity: dict[str, dict[str, int | None]] = {}
    for code in sorted(jurisdictions):
        queues = _require(path, spec, code, "queues", dict)  # a queue no treatment uses: kept
        capacity[code] = {}
        for queue in sorted(set(used) | set(queues)):
            where = f"queues.{code}.{queue}"
            value = _require(path, queues, queue, f"queues.{code}")
            if value == "unlimited":
                capacity[code][queue] = None
                continue
            if not isinstance(value, dict):
                _fail(path, where, f"expected {{agents: N, tasks_per_agent: N}} or unlimited, "
                      f"got {value!r}")
            _check_keys(path, value, {"agents", "tasks_per_agent"}, where)
            agents = _non_negative_int(path, _require(path, value, "agents", where),
                                       f"{where}.agents")
            per_agent = _non_negative_int(path, _require(path, value, "tasks_per_agent", where),
                                          f"{where}.tasks_per_agent")
            capacity[code][queue] = agents * per_agent
    return capacity


def _phone_cadence(path: Path, raw: dict) -> dict[str, int]:
    spec = raw.get("phone_cadence")
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        _fail(path, "phone_cadence", f"expected a mapping, got {spec!r}")
    _check_keys(path, spec, set(PHONE_CADENCE), "phone_cadence")
    cadence = {key: _non_negative_int(path, _require(path, spec, key, "phone_cadence"),
                                      f"phone_cadence.{key}") for key in PHONE_CADENCE}
    for key in ("max_nights_without_contact", "max_nights"):
        if cadence[key] < 1:
            _fail(path, f"phone_cadence.{key}", "expected at least 1")
    if cadence["max_nights"] < cadence["max_nights_without_contact"]:
        _fail(path, "phone_cadence.max_nights", "expected at least max_nights_without_contact")
    return cadence


def _grades(path: Path, value, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        _fail(path, key, f"expected a list of grades (A..E), got {value!r}")
    for grade in value:
        if grade not in GRADES:
            _fail(path, key, f"unknown grade {grade!r} (expected A..E)")
    return tuple(value)


def _buckets(path: Path, value, key: str) -> list[str]:
    if not isinstance(value, list):
        _fail(path, key, f"expected a list of buckets, got {value!r}")
    for bucket in value:
        if bucket not in BUCKETS:
            _fail(path, key, f"unknown bucket {bucket!r} (expected {', '.join(BUCKETS)})")
    return value


def _share(path: Path, value, key: str, low: float, high: float) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
        _fail(path, key, f"expected a number between {low} and {high}, got {value!r}")
    return float(value)


def _high_risk(path: Path, raw: dict) -> tuple[dict[str, dict], tuple[str, ...]]:
    """Per bucket, what high risk is. The older `high_risk_grades: [D, E]` still loads: it is
    `grades: [D, E]` in every bucket."""
    if "high_risk" in raw and "high_risk_grades" in raw:
        _fail(path, "high_risk_grades", "give high_risk (per bucket) or the older "
              "high_risk_grades (grades in every bucket), not both")
    if "high_risk_grades" in raw:
        grades = _grades(path, raw["high_risk_grades"], "high_risk_grades")
        return {bucket: {"grades": grades} for bucket in BUCKETS}, grades
    spec = _require(path, raw, "high_risk", "", dict)
    rules = {}
    for bucket, rule in spec.items():
        where = f"high_risk.{bucket}"
        if bucket not in BUCKETS:
            _fail(path, where, f"unknown bucket (expected {', '.join(BUCKETS)})")
        if not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in HIGH_RISK_KINDS:
            _fail(path, where, f"expected one of {{top_share: share}}, {{min_probability: p}} or "
                  f"{{grades: [..]}}, got {rule!r}")
        kind, value = next(iter(rule.items()))
        if kind == "grades":
            rules[bucket] = {kind: _grades(path, value, f"{where}.grades")}
        else:
            low = 0.0 if kind == "min_probability" else 1e-9
            rules[bucket] = {kind: _share(path, value, f"{where}.{kind}", low, 1.0)}
    return rules, ()


def _credit_line(path: Path, credit: dict) -> dict:
    old = sorted({"buckets", "min_utilisation", "reduce_by"} & set(credit))
    if old:
        _fail(path, f"credit_line.{old[0]}", "replaced by credit_line.reduce (buckets, "
              "min_utilisation, headroom, round_to), freeze_high_risk_buckets, freeze_buckets "
              "and over_limit (README: the collection strategy)")
    _check_keys(path, credit, {"reduce", "freeze_high_risk_buckets", "freeze_buckets",
                               "over_limit"}, "credit_line")
    reduce = _require(path, credit, "reduce", "credit_line", dict)
    _check_keys(path, reduce, {"buckets", "min_utilisation", "headroom", "round_to"},
                "credit_line.reduce")
    round_to = _require(path, reduce, "round_to", "credit_line.reduce", dict)
    for currency, step in round_to.items():
        if not isinstance(currency, str) or not _CURRENCY.match(currency):
            _fail(path, "credit_line.reduce.round_to", f"expected ISO 4217 currency codes, got "
                  f"{currency!r}")
        _share(path, step, f"credit_line.reduce.round_to.{currency}", 0.01, 1e6)
    over_limit = _require(path, credit, "over_limit", "credit_line")
    if over_limit not in OVER_LIMIT:
        _fail(path, "credit_line.over_limit", f"expected one of {', '.join(OVER_LIMIT)}, got "
              f"{over_limit!r}")
    return {
        "reduce": {
            "buckets": _buckets(path, _require(path, reduce, "buckets", "credit_line.reduce"),
                                "credit_line.reduce.buckets"),
            "min_utilisation": _share(path, _require(path, reduce, "min_utilisation",
                                                     "credit_line.reduce"),
                                      "credit_line.reduce.min_utilisation", 0.0, 1.5),
            "headroom": _share(path, _require(path, reduce, "headroom", "credit_line.reduce"),
                               "credit_line.reduce.headroom", 0.0, 1.0),
            "round_to": dict(round_to)},
        "freeze_high_risk_buckets": _buckets(
            path, _require(path, credit, "freeze_high_risk_buckets", "credit_line"),
            "credit_line.freeze_high_risk_buckets"),
        "freeze_buckets": _buckets(path, _require(path, credit, "freeze_buckets", "credit_line"),
                                   "credit_line.freeze_buckets"),
        "over_limit": over_limit,
    }


def load_strategy(path: Path | None = None) -> Strategy:
    """The strategy at `path` (default: the repository's), validated; raises StrategyError."""
    path = Path(path or STRATEGY_PATH)
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
    except OSError as exc:
        raise StrategyError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise StrategyError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise StrategyError(f"{path.name}: expected a mapping at the top level")
    _check_keys(path, raw, {"version", "high_risk", "high_risk_grades", "tiers", "treatments",
                            "suppressions",
                            "payment_deadline_days", "default_jurisdiction", "jurisdictions",
                            "sms_max_segments", "credit_line", "cure_windows_days",
                            "breakdown_missing", "queues", "phone_cadence", "offers",
                            "agencies"}, "(top)")
    breakdown_missing = raw.get("breakdown_missing", "per_statement")
    if breakdown_missing not in BREAKDOWN_MISSING:
        _fail(path, "breakdown_missing", f"expected one of {', '.join(BREAKDOWN_MISSING)}, got "
              f"{breakdown_missing!r}")
    version = str(_require(path, raw, "version", ""))
    high_risk, grades = _high_risk(path, raw)
    rules = _tier_rules(path, raw)
    contacts, names = _treatments(path, raw, rules)
    suppressions = _require(path, raw, "suppressions", "", dict)
    lookback = {}
    for reason in ACCOUNT_SUPPRESSIONS + CHANNEL_SUPPRESSIONS:
        spec = _require(path, suppressions, reason, "suppressions", dict)
        _check_keys(path, spec, {"lookback_days"}, f"suppressions.{reason}")
        lookback[reason] = _non_negative_int(path, spec.get("lookback_days"),
                                             f"suppressions.{reason}.lookback_days", True)
    for reason in AGENCY_SUPPRESSIONS:
        spec = suppressions.get(reason) or {}
        _check_keys(path, spec, {"lookback_days"}, f"suppressions.{reason}")
        lookback[reason] = _non_negative_int(path, spec.get("lookback_days"),
                                             f"suppressions.{reason}.lookback_days", True)
    _check_keys(path, suppressions, set(lookback), "suppressions")
    jurisdictions = {code: _jurisdiction(path, code, spec) for code, spec in
                     _require(path, raw, "jurisdictions", "", dict).items()}
    default = _require(path, raw, "default_jurisdiction", "", str)
    if default not in jurisdictions:
        _fail(path, "default_jurisdiction", f"{default!r} is not under jurisdictions")
    credit = _credit_line(path, _require(path, raw, "credit_line", "", dict))
    windows = tuple(_require(path, raw, "cure_windows_days", "", list))
    if windows != (7, 30):
        _fail(path, "cure_windows_days", "the cure_rates table has 7- and 30-day columns: "
              "expected [7, 30]")
    capacity = _queues(path, raw, contacts, set(jurisdictions))
    phone_cadence = _phone_cadence(path, raw)
    validate_offers(path, raw, _fail)
    try:
        agencies = parse_agencies(path, raw.get("agencies"), set(jurisdictions))
    except AgencyStrategyError as error:
        raise StrategyError(str(error)) from error
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return Strategy(
        version=f"{version}+{digest}", path=path, raw=raw, high_risk_grades=tuple(grades),
        tier_rules=rules, contacts=contacts, treatment_names=names,
        suppression_lookback=lookback, jurisdictions=jurisdictions, default_jurisdiction=default,
        payment_deadline_days=_non_negative_int(
            path, _require(path, raw, "payment_deadline_days", ""), "payment_deadline_days"),
        sms_max_segments=_non_negative_int(path, _require(path, raw, "sms_max_segments", ""),
                                           "sms_max_segments"),
        credit_line=credit, cure_windows_days=windows, breakdown_missing=breakdown_missing,
        high_risk=high_risk,
        queue_capacity=capacity, phone_cadence=phone_cadence, agencies=agencies)
