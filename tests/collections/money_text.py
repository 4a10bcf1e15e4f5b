"""Read back the money a released contact states, from its own text, and what it should state.

The parser works on what the customer gets (an SMS text, an e-mail's plain-text part, a print
letter's page as `pdftotext -layout` lays it out): one table line per amount, label then value.
The expected figures come from the night's account_snapshots row and this module's own delivery
calendar over pipelines/config/collection_strategy.yaml, never from the pipeline's code.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import yaml

STRATEGY_FILE = Path(__file__).resolve().parents[2] / "pipelines" / "config" / "collection_strategy.yaml"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
ZH_DATE = r"\d{4}年\d{1,2}月\d{1,2}日"
EN_DATE = r"(?:" + "|".join(MONTHS) + r") \d{1,2}, \d{4}"
ANY_DATE = f"(?:{ZH_DATE}|{EN_DATE})"
MONEY = r"[¥$]\d{1,3}(?:,\d{3})*\.\d{2}"
# a table line: the label, then (after a run of spaces in a PDF, a colon in a text part) the value
TABLE_LINE = re.compile(r"^\s*(?P<label>\S.*?)(?:\s{2,}|：|: )(?P<sign>[+–-] )?"
                        rf"(?P<value>{MONEY}|{ANY_DATE})\s*$")
LABELS = {
    "逾期本金": "principal", "Past-due principal": "principal",
    "逾期利息": "interest", "Past-due interest": "interest",
    "罚息": "penalty_interest", "Penalty interest": "penalty_interest",
    "违约金": "fees", "Late fees": "fees",
    "逾期金额合计": "past_due", "Past-due amount": "past_due",
    "逾期金额（本金、利息、罚息、违约金明细以您的账单为准）": "past_due_per_statement",
    "Past-due amount (principal, interest and fees as on your statement)": "past_due_per_statement",
    "尚未到期金额": "not_yet_due", "Not yet due": "not_yet_due",
    "欠款总额": "balance", "Total balance": "balance",
    "还款截止日": "deadline", "Please pay by": "deadline",
    "You were charged this amount in interest, fees and other charges:": "charges_since",
    "You paid or were credited this amount toward the debt:": "payments_since",
    "Other credits:": "credits_since",
    "Total amount of the debt now:": "debt_now",
}
DATED_LABELS = (
    (re.compile(rf"^({ZH_DATE})到期的本期应还$|^Payment due ({EN_DATE})$"), "instalment"),
    (re.compile(rf"^截至({ZH_DATE})应还合计$|^Total to pay by ({EN_DATE})$"), "to_pay"),
    (re.compile(rf"^As of ({EN_DATE})(?: \((?P<basis>[^)]*)\))?, you owed:$"), "itemization"),
)
BREAKDOWN = ("principal", "interest", "penalty_interest", "fees")


def html_text(markup: str) -> str:
    """An HTML part as lines of text: a table row as 'label  value', a block per line."""
    body = markup[markup.find("<body"):] if "<body" in markup else markup
    body = re.sub(r"</t[hd]>\s*<t[hd][^>]*>", "  ", body)
    body = re.sub(r"<br\s*/?>|</(?:p|tr|div|h\d|li|table)>", "\n", body)
    return html.unescape(re.sub(r"<[^>]+>", "", body))


def parse_date(text: str) -> date:
    if match := re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text):
        return date(*map(int, match.groups()))
    month, day, year = re.fullmatch(r"(\w+) (\d{1,2}), (\d{4})", text).groups()
    return date(int(year), MONTHS.index(month) + 1, int(day))


def parse_money(text: str) -> tuple[str, Decimal]:
    """('¥', Decimal('1234.56')) from '¥1,234.56'."""
    return text[0], Decimal(text[1:].replace(",", ""))


@dataclass
class Stated:
    """What one contact's text states; a field the text does not state stays None."""

    currency_symbols: set = field(default_factory=set)
    amounts: dict = field(default_factory=dict)  # label key -> Decimal
    dates: dict = field(default_factory=dict)  # label key -> date (to_pay: its "by" day)
    unknown_lines: list = field(default_factory=list)  # table lines with no known label
    days_past_due: int | None = None
    sentence: tuple | None = None  # (amount, by day or None, deadline) of the text's own sentence
    reminder: tuple | None = None  # (amount, due date) of a pre-due reminder
    validation_end: date | None = None
    itemization_basis: str | None = None

    @property
    def breakdown(self) -> dict | None:
        parts = {k: self.amounts[k] for k in BREAKDOWN if k in self.amounts}
        return parts or None


def read_table(text: str, stated: Stated) -> None:
    for line in text.splitlines():
        match = TABLE_LINE.match(line)
        if not match:
            continue
        label, value = match["label"].strip(), match["value"]
        key, when = LABELS.get(label), None
        if key is None:
            for pattern, dated in DATED_LABELS:
                if found := pattern.match(label):
                    key, when = dated, parse_date(next(g for g in found.groups()[:2] if g))
                    stated.itemization_basis = found.groupdict().get("basis") or \
                        stated.itemization_basis
                    break
        if key is None:
            if value[0] in "¥$":
                stated.unknown_lines.append(line.strip())
            continue
        if value[0] in "¥$":
            symbol, amount = parse_money(value)
            stated.currency_symbols.add(symbol)
            if key in stated.amounts:
                stated.unknown_lines.append(f"twice: {line.strip()}")
            stated.amounts[key] = amount
            if when is not None:
                stated.dates[key] = when
        else:
            stated.dates[key] = parse_date(value)


def _flat(text: str) -> str:
    """Lines joined as one paragraph (a PDF wraps a sentence anywhere): no space where either
    side of the break is Chinese text, one space between two Latin words."""
    return re.sub(r"(.?)[ \t]*\n\s*(.?)",
                  lambda m: m[1] + ("" if max(m[1] + m[2] or "a") > "\x7f" else " ") + m[2],
                  text)


SENTENCES = (
    # letters: the amount due by delivery and the deadline
    re.compile(rf"于(?P<deadline>{ZH_DATE})前还清截至(?P<by>{ZH_DATE})的应还合计(?P<amount>{MONEY})"),
    re.compile(rf"pay the (?P<amount>{MONEY}) due by (?P<by>{EN_DATE}) no later than "
               rf"(?P<deadline>{EN_DATE})"),
    # SMS past due
    re.compile(rf"应还(?P<amount>{MONEY})，请于(?P<deadline>{ZH_DATE})前"),
    re.compile(rf"(?P<amount>{MONEY}) to pay by (?P<deadline>{EN_DATE})"),
)
REMINDERS = (
    re.compile(rf"本期应还(?P<amount>{MONEY})，还款日为?(?P<due>{ZH_DATE})"),
    re.compile(rf"has (?P<amount>{MONEY}) due on (?P<due>{EN_DATE})"),
)
DAYS_PAST_DUE = re.compile(r"逾期(\d+)天|\b(\d+) days? past due")
VALIDATION_END = re.compile(rf"(?:Call or write to us|If you write to us) by ({EN_DATE})")


def read_contact(text: str) -> Stated:
    """Everything about money and dates the contact's text states."""
    stated = Stated()
    read_table(text, stated)
    flat = _flat(text)
    for pattern in SENTENCES:
        if match := pattern.search(flat):
            symbol, amount = parse_money(match["amount"])
            stated.currency_symbols.add(symbol)
            by = match.groupdict().get("by")
            stated.sentence = (amount, by and parse_date(by), parse_date(match["deadline"]))
            break
    for pattern in REMINDERS:
        if match := pattern.search(flat):
            symbol, amount = parse_money(match["amount"])
            stated.currency_symbols.add(symbol)
            stated.reminder = (amount, parse_date(match["due"]))
    if match := DAYS_PAST_DUE.search(flat):
        stated.days_past_due = int(next(g for g in match.groups() if g))
    ends = {parse_date(d) for d in VALIDATION_END.findall(flat)}
    if ends:
        stated.validation_end = ends.pop() if len(ends) == 1 else None
    return stated


@dataclass(frozen=True)
class Calendar:
    """Delivery days and deadlines as collection_strategy.yaml states them."""

    payment_deadline_days: int
    default_jurisdiction: str
    delivery: dict  # jurisdiction -> channel -> ("days" | "working_days", n)
    holidays: dict  # jurisdiction -> set of dates
    validation_period_days: dict  # jurisdiction -> days or None

    @classmethod
    def load(cls, path: Path = STRATEGY_FILE) -> Calendar:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        delivery, holidays, validation = {}, {}, {}
        for code, rules in spec["jurisdictions"].items():
            delivery[code] = {channel: next(iter(lag.items()))
                              for channel, lag in rules["delivery"].items()}
            holidays[code] = {d if isinstance(d, date) else date.fromisoformat(d)
                              for d in rules.get("non_working_days") or []}
            validation[code] = rules.get("validation_period_days")
        return cls(spec["payment_deadline_days"], spec["default_jurisdiction"], delivery,
                   holidays, validation)

    def jurisdiction(self, country: str | None) -> str:
        return country if country in self.delivery else self.default_jurisdiction

    def delivery_day(self, jurisdiction: str, channel: str, night: date) -> date:
        """Sent the day after the night; days later as the channel's lag says (working days
        skip Saturdays, Sundays and the jurisdiction's listed days)."""
        day = night + timedelta(days=1)
        unit, count = self.delivery[jurisdiction][channel]
        if unit == "days":
            return day + timedelta(days=count)
        while count:
            day += timedelta(days=1)
            if day.weekday() < 5 and day not in self.holidays[jurisdiction]:
                count -= 1
        return day
