"""The compliance linter: every rendered contact is checked before it joins a batch.

One function per DOMAIN.md §5 rule. A contact that breaks a rule is held with the rule's name and
the offending text span (or what is missing). Phrases and required elements are data
(`reports/letters/lexicon/`), not code. The rules, in the order they are tried:

- recipient_is_debtor: the contact goes to the account's holder, at a phone / e-mail / address
  no other customer has (a shared number could tell a family member about the debt)
- allowed_hours: scheduled inside the jurisdiction's hours in the customer's own time zone
- contact_cap: within the jurisdiction's caps (messages per channel and window; US calls: at
  most 7 in 7 days, none within 7 days after a conversation)
- reminder_after_due_date: a pre-due reminder is never delivered after the due date it names
- breakdown_missing: the strategy holds demands of a lender that sends no past-due breakdown
- letter_arithmetic: the money adds up on the delivery day: breakdown = past due; past due +
  every instalment the snapshot shows falling due by delivery = amount to pay; amount to pay +
  not yet due = balance; deadline = delivery + payment_deadline_days; each amount's text is its value
- sms_length: an SMS fits the strategy's segments (70 UCS-2 / 160 GSM-7 characters each)
- unmasked_account: the full account number never appears
- opt_out: an SMS or e-mail carries the opt-out where its jurisdiction offers one, and none
  where it offers none
- required_elements: everything the jurisdiction requires for the channel and template
- itemization_arithmetic: US validation notice: amount then + charges - payments - credits = now
- amounts_match / dates_match: every amount and date in the text is one of the account's
- official_channels: every link and e-mail address is the lender's (or the regulator's)
- forbidden_phrase: no phrase of a forbidden category (threats, impersonation, third parties...)
- time_barred_litigation: no threat of suit on time-barred debt (US)
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from markupsafe import escape

from pipelines.lib.collections.offer_terms import (
    offer_amount_texts,
    offer_terms,
    offer_terms_printed,
)
from pipelines.lib.collections.rendering import LETTERS_DIR, Rendered
from pipelines.lib.collections.strategy import MESSAGE_CHANNELS, Strategy

LEXICON_DIR = LETTERS_DIR / "lexicon"
OPT_OUT_ELEMENTS = ("opt_out_sms", "opt_out_link")
AMOUNT_FIELDS = ("past_due_amount_text", "balance_text", "amount_due_text", "not_yet_due_text",
                 "amount_to_pay_text", "instalment_amount_text", "past_due_principal_text",
                 "past_due_interest_text", "past_due_penalty_interest_text", "past_due_fees_text",
                 "itemization_amount_text", "charges_since_text", "payments_since_text",
                 "credits_since_text")
DATE_FIELDS = ("letter_date_text", "deadline_text", "next_due_date_text", "delivery_date_text",
               "instalment_due_date_text", "contract_date_text", "itemization_date_text",
               "validation_end_text")
# amounts whose text the linter recomputes from the value (letter_arithmetic)
MONEY = ("past_due_amount", "balance", "amount_to_pay", "not_yet_due", "instalment_amount",
         "past_due_principal", "past_due_interest", "past_due_penalty_interest", "past_due_fees")
BREAKDOWN = ("past_due_principal", "past_due_interest", "past_due_penalty_interest",
             "past_due_fees")
# templates that state what is due before the due date (no past due, no arithmetic of arrears)
PRE_DUE_TEMPLATES = frozenset({"early_reminder"})
DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+")
PERSONAL_FIELDS = ("full_name", "postal_address", "city", "region", "postal_code")
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRS"
           "TUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€")
NON_GSM7 = re.compile("[^" + re.escape("".join(sorted(GSM7))) + "]")
# characters a link cannot cross (LINK's excluded characters)
LINK_STOP = re.compile(r"[\s<>\"'，。；）)]")
# around a field marker: the run a link could extend over, and the stretch a window covers
_LINK_RUN = re.compile(r"[^\s<>\"'，。；）)\x00]*\x00[^\s<>\"'，。；）)\x00]*")
# context kept around a contact's field when its surroundings are scanned: longer than any
# amount, date or forbidden phrase (links are widened to the nearest character they cannot cross)
CONTEXT = 48
AMOUNT = re.compile(r"(?<![\d,.])\d{1,3}(?:,\d{3})*\.\d{2}(?![\d.%])")
DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日|(?:January|February|March|April|May|June|July|"
                  r"August|September|October|November|December) \d{1,2}, \d{4}")
LINK = re.compile(r"https?://([^/\s<>\"'，。；）)]+)[^\s<>\"'，。；）)]*|www\.([^/\s<>\"'，。；）)]+)"
                  r"|[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def sms_length(text: str) -> tuple[str, int, int]:
    """(encoding, characters, segments): 160 GSM-7 characters in one segment, 153 each when
    concatenated; 70 / 67 in UCS-2 (any character outside GSM-7)."""
    gsm = NON_GSM7.search(text) is None
    single, multi = (160, 153) if gsm else (70, 67)
    characters = len(text)
    segments = 1 if characters <= single else -(-characters // multi)
    return ("GSM-7" if gsm else "UCS-2"), characters, segments


@dataclass(frozen=True)
class Finding:
    rule: str
    span: str


@dataclass(frozen=True)
class Lexicon:
    forbidden: re.Pattern
    litigation: re.Pattern
    category_of: dict[str, str]
    longest: int


def _phrase_pattern(phrases: list[str], english: bool) -> re.Pattern:
    ordered = sorted(phrases, key=len, reverse=True)
    body = "|".join(re.escape(p) for p in ordered)
    return re.compile(rf"\b(?:{body})\b" if english else f"(?:{body})",
                      re.IGNORECASE if english else 0)


@functools.cache
def load_lexicon(locale: str, root: Path = LEXICON_DIR) -> Lexicon:
    data = yaml.safe_load((root / f"{locale}.yaml").read_text(encoding="utf-8"))
    english = locale.startswith("en")
    category_of, forbidden, litigation = {}, [], []
    for category, phrases in data["categories"].items():
        for phrase in phrases:
            category_of[phrase.lower() if english else phrase] = category
            (litigation if category == "litigation_threat" else forbidden).append(phrase)
    return Lexicon(_phrase_pattern(forbidden, english), _phrase_pattern(litigation, english),
                   category_of, max(map(len, category_of), default=0))


@functools.cache
def load_requirements(root: Path = LEXICON_DIR) -> dict:
    return yaml.safe_load((root / "required_elements.yaml").read_text(encoding="utf-8"))


class Linter:
    """Checks rendered contacts against DOMAIN §5 for their jurisdiction, channel and template."""

    def __init__(self, strategy: Strategy, root: Path = LEXICON_DIR):
        self.strategy = strategy
        self.root = root
        self.requirements = load_requirements(root)
        self._zones: dict[str, ZoneInfo | None] = {}
        self._elements: dict[tuple, tuple[tuple[str, str], ...]] = {}
        self._lenders: dict[tuple[str, str], SimpleNamespace] = {}
        self._domains: dict[str, tuple[str, ...]] = {}
        self._scanned: tuple[Rendered, str] | None = None
        self._hours_seen: dict[tuple, Finding | None] = {}
        self._layouts: dict[int, _LayoutScan | None] = {}
        self._opt_out_literals: dict[int, tuple] = {}
        self._opt_out_patterns: dict[str, re.Pattern] = {}

    # ------------------------------------------------------------------ lookups, cached
    def _zone(self, name: str | None) -> ZoneInfo | None:
        if name not in self._zones:
            try:
                self._zones[name] = ZoneInfo(name) if name else None
            except (ZoneInfoNotFoundError, ValueError):
                self._zones[name] = None
        return self._zones[name]

    def _lender(self, jurisdiction: str, locale: str) -> SimpleNamespace:
        key = (jurisdiction, locale)
        if key not in self._lenders:
            self._lenders[key] = SimpleNamespace(
                **self.strategy.jurisdiction(jurisdiction).lender_for(locale))
        return self._lenders[key]

    def _official_domains(self, jurisdiction: str) -> tuple[str, ...]:
        if jurisdiction not in self._domains:
            lender = self.strategy.jurisdiction(jurisdiction).lender
            text = yaml.safe_dump(lender, allow_unicode=True)
            found = {m.group(1) or m.group(2) or m.group(3) for m in LINK.finditer(text)}
            found |= set(self.requirements.get("also_allowed_domains", []))
            self._domains[jurisdiction] = tuple(_registrable(d) for d in found if d)
        return self._domains[jurisdiction]

    def elements(self, jurisdiction: str, channel: str, template: str,
                 locale: str) -> tuple[tuple[str, str], ...]:
        """(element, format) pairs required for this kind of contact."""
        key = (jurisdiction, channel, template, locale)
        if key not in self._elements:
            by_channel = self.requirements["required"].get(
                jurisdiction, self.requirements["required"][self.strategy.default_jurisdiction])
            names = by_channel.get(channel, {})
            names = names.get(template, names.get("default", []))
            self._elements[key] = tuple(
                (name, self.requirements["elements"][name][locale]) for name in names)
        return self._elements[key]

    # ------------------------------------------------------------------ the check
    def lint(self, row: dict, rendered: Rendered | None) -> Finding | None:
        """The first rule `row` (a contacts_to_render row) breaks, or None when it may go."""
        channel = row["channel"]
        for check in (self._recipient, self._hours, self._cap, self._reminder_due,
                      self._breakdown_policy, self._arithmetic, offer_terms):
            finding = check(row)
            if finding:
                return finding
        if rendered is None:
            return None
        self._scanned = None
        for check in (self._sms_length, self._unmasked, self._elements_present,
                      self._itemization, offer_terms_printed, self._amounts_and_dates,
                      self._links, self._forbidden):
            finding = check(row, rendered, channel)
            if finding:
                return finding
        return None

    def _recipient(self, row: dict) -> Finding | None:
        if row["recipient_customer_id"] != row["customer_id"]:
            return Finding("recipient_is_debtor", "recipient is not the account holder")
        holders = row.get("destination_holders")
        if row["channel"] != "review" and holders is not None and holders > 1:
            return Finding("recipient_is_debtor",
                           f"{row['channel']} destination shared by {holders} customers")
        return None

    def _hours(self, row: dict) -> Finding | None:
        if row["channel"] == "review":
            return None
        key = (row.get("scheduled_at"), row.get("timezone"), row["jurisdiction"])
        if key not in self._hours_seen:
            self._hours_seen[key] = self._hours_of(row)
        return self._hours_seen[key]

    def _hours_of(self, row: dict) -> Finding | None:
        zone = self._zone(row.get("timezone"))
        scheduled: datetime | None = row.get("scheduled_at")
        if zone is None or scheduled is None:
            return Finding("allowed_hours", "unknown time zone")
        local = scheduled.astimezone(zone).strftime("%H:%M")
        rules = self.strategy.jurisdiction(row["jurisdiction"])
        if not rules.allowed_start <= local < rules.allowed_end:
            return Finding("allowed_hours", f"{local} local, allowed "
                           f"{rules.allowed_start}-{rules.allowed_end}")
        return None

    def _cap(self, row: dict) -> Finding | None:
        count, cap = row.get("cap_count"), row.get("cap_max")
        if row["channel"] == "phone":
            calls = self.strategy.jurisdiction(row["jurisdiction"]).calls
            if cap is not None and count is not None and count >= cap:
                return Finding("contact_cap", f"{count} calls in the last 6 nights, cap {cap} "
                               "in 7 days")
            after = calls.get("days_after_conversation")
            last = row.get("last_conversation")
            if after and last is not None and (row["snapshot_date"] - last).days < after:
                return Finding("contact_cap", f"conversation {last}, no call for {after} days")
            return None
        if cap is not None and count is not None and count > cap:
            return Finding("contact_cap", f"{row['channel']} number {count} in the window, "
                           f"cap {cap}")
        return None

    def _sms_length(self, row: dict, rendered: Rendered, channel: str) -> Finding | None:
        if channel != "sms":
            return None
        encoding, characters, segments = sms_length(rendered.parts["txt"])
        if segments > self.strategy.sms_max_segments:
            return Finding("sms_length", f"{characters} {encoding} characters "
                           f"= {segments} segments, max {self.strategy.sms_max_segments}")
        return None

    def _unmasked(self, row: dict, rendered: Rendered, channel: str) -> Finding | None:
        if row["account_id"] in rendered.body:
            return Finding("unmasked_account", "full account number in the text")
        return None

    def _elements_present(self, row: dict, rendered: Rendered, channel: str) -> Finding | None:
        values = _FormatRow(row, self._lender(row["jurisdiction"], row["locale"]),
                            self.strategy.jurisdiction(row["jurisdiction"]).opt_out(
                                channel, row["locale"]))
        for name, spec in self.elements(row["jurisdiction"], channel, row["template"],
                                        row["locale"]):
            rule = "opt_out" if name in OPT_OUT_ELEMENTS else "required_elements"
            if isinstance(spec, dict):
                formats = spec.get("then", []) if row.get(spec["when"]) else spec.get("else", [])
            else:
                formats = [spec]
            for fmt in formats:
                try:
                    expected = fmt.format_map(values)
                except (KeyError, AttributeError, IndexError, TypeError):
                    return Finding(rule, f"{name}: no value for the account")
                if expected in ("", "None"):
                    return Finding(rule, f"{name}: no value for the account")
                for part, text in rendered.parts.items():
                    wanted = str(escape(expected)) if part == "html" else expected
                    if wanted not in text:
                        return Finding(rule, f"{name} missing from the {part} part")
        if channel in ("sms", "email") and values["opt_out"] is None:
            found = self._opt_out_offered(row, rendered)
            if found:
                return Finding("opt_out", f"offered where {row['jurisdiction']} offers none: "
                               f"{found.group(0)}")
        return None

    def _opt_out_offered(self, row: dict, rendered: Rendered) -> re.Match | None:
        """An opt-out phrase in the contact's text. A compiled template's literal text is read
        once: the fields between (amounts, dates, the masked account, the customer's own data,
        which is never scanned) cannot carry one."""
        pattern = self._opt_out_phrase(row["locale"])
        layout = rendered.layout
        if layout is None:
            return pattern.search(self._scannable(row, rendered))
        seen = self._opt_out_literals.get(id(layout))
        if seen is None or seen[0] is not layout:
            literal = "\n".join(DATA_URI.sub(" ", text) for _, literals, _, _ in layout.parts
                                for text in literals)
            seen = self._opt_out_literals[id(layout)] = (layout, pattern.search(literal))
        return seen[1]

    def _opt_out_phrase(self, locale: str) -> re.Pattern:
        if locale not in self._opt_out_patterns:
            phrases = self.requirements.get("opt_out_phrases", {}).get(locale) or ["\x00"]
            self._opt_out_patterns[locale] = _phrase_pattern(phrases, locale.startswith("en"))
        return self._opt_out_patterns[locale]

    # ------------------------------------------------------------------ the money, by the row
    def _reminder_due(self, row: dict) -> Finding | None:
        if row.get("template") not in PRE_DUE_TEMPLATES:
            return None
        due, delivered = row.get("next_due_date"), row.get("delivery_date")
        if due is None or delivered is None or delivered > due:
            return Finding("reminder_after_due_date",
                           f"delivered {delivered}, due {due}: a reminder after the fact")
        return None

    @staticmethod
    def _states_arrears(row: dict) -> bool:
        """A message that asks for what is past due (not a pre-due reminder, not the US
        validation notice, whose itemization has its own rule)."""
        return (row["channel"] in MESSAGE_CHANNELS
                and row.get("template") not in PRE_DUE_TEMPLATES | {"validation_notice"})

    def _breakdown_policy(self, row: dict) -> Finding | None:
        if (self._states_arrears(row) and self.strategy.breakdown_missing == "hold"
                and not row.get("breakdown_available")):
            return Finding("breakdown_missing", "no past-due breakdown in the feed")
        return None

    def _arithmetic(self, row: dict) -> Finding | None:
        if not self._states_arrears(row):
            return None
        money = {name: _decimal(row.get(name)) for name in MONEY}
        for name, value in money.items():
            if value is not None and row.get(f"{name}_text") != f"{value:,.2f}":
                return Finding("letter_arithmetic",
                               f"{name}_text {row.get(f'{name}_text')!r} is not {value:,.2f}")
        if None in (money["past_due_amount"], money["balance"], money["amount_to_pay"],
                    money["not_yet_due"]) or row.get("delivery_date") is None:
            return Finding("letter_arithmetic", "no amount to pay or delivery day")
        if row.get("breakdown_available"):
            parts = [money[name] for name in BREAKDOWN]
            if None in parts or sum(parts) != money["past_due_amount"]:
                return Finding("letter_arithmetic", f"breakdown {' + '.join(map(str, parts))} "
                               f"!= past due {money['past_due_amount']}")
        due, amount_due = row.get("next_due_date"), _decimal(row.get("amount_due"))
        falls_due = (due is not None and amount_due is not None and amount_due > 0
                     and due <= row["delivery_date"])
        named = (row.get("instalment_due_date"), money["instalment_amount"])
        if named != ((due, amount_due) if falls_due else (None, None)):
            return Finding("letter_arithmetic", f"instalment named {named[0]} {named[1]}, the "
                           f"snapshot has {amount_due} due {due}, delivery {row['delivery_date']}")
        if money["past_due_amount"] + (named[1] or 0) != money["amount_to_pay"]:
            return Finding("letter_arithmetic", f"past due {money['past_due_amount']} + "
                           f"instalment {named[1] or 0} != to pay {money['amount_to_pay']}")
        if money["amount_to_pay"] + money["not_yet_due"] != money["balance"]:
            return Finding("letter_arithmetic", f"to pay {money['amount_to_pay']} + not yet due "
                           f"{money['not_yet_due']} != balance {money['balance']}")
        deadline = row.get("deadline")
        expected = row["delivery_date"] + timedelta(days=self.strategy.payment_deadline_days)
        if deadline != expected:
            return Finding("letter_arithmetic", f"deadline {deadline}, delivery "
                           f"{row['delivery_date']} + {self.strategy.payment_deadline_days} days "
                           f"is {expected}")
        return None

    def _itemization(self, row: dict, rendered: Rendered, channel: str) -> Finding | None:
        if row["template"] != "validation_notice":
            return None
        parts = [row.get(k) for k in ("itemization_amount", "charges_since", "payments_since",
                                      "credits_since", "balance")]
        if any(p is None for p in parts) or row.get("itemization_date_text") is None:
            return Finding("itemization_arithmetic", "no itemization date in range")
        then, charges, payments, credits, now = (Decimal(str(p)) for p in parts)
        if then + charges - payments - credits != now:
            return Finding("itemization_arithmetic",
                           f"{then} + {charges} - {payments} - {credits} != {now}")
        return None

    def _layout_scan(self, row: dict, rendered: Rendered) -> _LayoutScan | None:
        layout = rendered.layout
        if layout is None:
            return None
        key = id(layout)
        if key not in self._layouts:
            self._layouts[key] = _LayoutScan.of(self, layout, row)
        scan = self._layouts[key]
        return scan if scan is not None and scan.layout is layout else None

    def _scannable(self, row: dict, rendered: Rendered) -> str:
        """The contact's text without the customer's own data and without style sheets."""
        if self._scanned is not None and self._scanned[0] is rendered:
            return self._scanned[1]
        texts = [rendered.subject or ""]
        for part, text in rendered.parts.items():
            if part == "html":
                start = text.find("<body")
                text = text[start:] if start >= 0 else text
            for field in PERSONAL_FIELDS:
                value = row.get(field)
                if value:
                    text = text.replace(str(escape(value)) if part == "html" else value, " ")
            texts.append(DATA_URI.sub(" ", text))
        self._scanned = (rendered, "\n".join(texts))
        return self._scanned[1]

    def _amounts_and_dates(self, row: dict, rendered: Rendered, channel: str) -> Finding | None:
        scan = self._layout_scan(row, rendered)
        if scan is not None:
            return scan.amounts_and_dates(row)
        text = self._scannable(row, rendered)
        allowed = {row.get(f) for f in AMOUNT_FIELDS} | set(offer_amount_texts(row))
        for amount in AMOUNT.findall(text):
            if amount not in allowed:
                return Finding("amounts_match", amount)
        allowed = {row.get(f) for f in DATE_FIELDS} | {row.get("offer_valid_until_text")}
        for found in DATE.findall(text):
            if found not in allowed:
                return Finding("dates_match", found)
        return None

    def _links(self, row: dict, rendered: Rendered, channel: str) -> Finding | None:
        scan = self._layout_scan(row, rendered)
        if scan is not None:
            return scan.links(row)
        return self._links_in(self._scannable(row, rendered), row["jurisdiction"])

    def _links_in(self, text: str, jurisdiction: str) -> Finding | None:
        official = self._official_domains(jurisdiction)
        for match in LINK.finditer(text):
            domain = _registrable(match.group(1) or match.group(2) or match.group(3) or "")
            if domain not in official:
                return Finding("official_channels", match.group(0)[:80])
        return None

    def _forbidden(self, row: dict, rendered: Rendered, channel: str) -> Finding | None:
        scan = self._layout_scan(row, rendered)
        if scan is not None:
            return scan.forbidden(row)
        return self._forbidden_in(self._scannable(row, rendered), row)

    def _forbidden_in(self, text: str, row: dict) -> Finding | None:
        lexicon = load_lexicon(row["locale"], self.root)
        found = lexicon.forbidden.search(text)
        if found:
            phrase = found.group(0)
            category = lexicon.category_of.get(phrase.lower() if row["locale"].startswith("en")
                                               else phrase, "forbidden")
            return Finding("forbidden_phrase", f"{category}: {phrase}")
        if row.get("time_barred"):
            found = lexicon.litigation.search(text)
            if found:
                return Finding("time_barred_litigation", found.group(0))
        return None


class _LayoutScan:
    """The scanning checks for contacts rendered from one compiled template (Compiled).

    A rendered contact is the template's literal texts with the contact's fields between them.
    The literal text (fields replaced by a character no pattern matches) is scanned once; per
    contact only each field with CONTEXT characters of its surroundings (to the nearest
    character a link cannot cross, for links) is scanned, so every match that involves a field
    is seen whole. Literal matches that touch a field are left to those windows. Personal fields
    are never scanned (as in Linter._scannable). Literal amounts and dates are kept and compared
    with each contact's own. HTML parts are scanned from `<body` on."""

    def __init__(self, linter: Linter, layout, jurisdiction: str, locale: str,
                 segments: list[list[tuple[str, str | None, bool, bool]]]):
        self.linter, self.layout = linter, layout
        self.jurisdiction, self.locale = jurisdiction, locale
        # per part: (literal, the field after it or None, html, that field is personal)
        self.segments = segments
        self._last: tuple | None = None
        # fields to scan become a marker no pattern matches; personal ones a space (as in
        # Linter._scannable); parts are joined as Linter._scannable joins them
        literal = "\n".join(
            "".join(text + ("\x00" if field else " " if personal else "")
                    for text, field, _, personal in part) for part in segments)
        self.literal_amounts = [m.group(0) for m in AMOUNT.finditer(literal)
                                if not _touches(literal, m)]
        self.literal_dates = [m.group(0) for m in DATE.finditer(literal)
                              if not _touches(literal, m)]
        self.literal_link = linter._links_in(_LINK_RUN.sub("\x00", literal), jurisdiction)
        lexicon = load_lexicon(locale, linter.root)
        # a phrase touching the blanked stretch lies inside the field's window; "_" is a word
        # character, so blanking makes no new word boundary
        reach = CONTEXT - lexicon.longest - 2
        near = re.sub(rf"[^\x00\n]{{0,{reach}}}\x00[^\x00\n]{{0,{reach}}}",
                      lambda m: "_" * len(m.group(0)), literal)
        self.literal_forbidden = lexicon.forbidden.search(near)
        self.literal_litigation = lexicon.litigation.search(near)

    @classmethod
    def of(cls, linter: Linter, layout, row: dict) -> _LayoutScan | None:
        if load_lexicon(row["locale"], linter.root).longest > CONTEXT - 10:
            return None
        segments = []
        for part, literals, fields, html in layout.parts:
            start = 0
            if html:
                found = [i for i, text in enumerate(literals) if "<body" in text]
                if not found:
                    return None
                start = found[0]
                first = literals[start][literals[start].index("<body"):]
                literals = (first, *literals[start + 1:])
                fields = fields[start:]
            part_segments = []
            for i, text in enumerate(literals):
                field = fields[i] if i < len(fields) else None
                personal = field in PERSONAL_FIELDS
                part_segments.append((text, None if personal else field, html, personal))
            segments.append(part_segments)
        return cls(linter, layout, row["jurisdiction"], row["locale"], segments)

    def windows(self, row: dict, links: bool = False) -> list[str]:
        """Each run of the contact's fields with its surroundings, as the contact reads it."""
        if self._last is None or self._last[0] is not row:
            self._last = (row, {})
        found = self._last[1].get(links)
        if found is None:
            found = self._last[1][links] = self._windows(row, links)
        return found

    def _windows(self, row: dict, links: bool) -> list[str]:
        found = []
        for part in self.segments:
            current: list[str] | None = None
            for i, (text, field, html, _) in enumerate(part):
                if current is not None:
                    if len(text) <= 2 * CONTEXT and field is not None:
                        current.append(text)
                    else:
                        current.append(_head(text, links))
                        found.append("".join(current))
                        current = None
                if field is None:
                    continue
                value = row[field]
                value = str(escape(value)) if html else str(value)
                if current is None:
                    current = [_tail(text, links)]
                current.append(value)
                if i + 1 == len(part):
                    found.append("".join(current))
                    current = None
            if current is not None:
                found.append("".join(current))
        return found

    def amounts_and_dates(self, row: dict) -> Finding | None:
        windows = None
        allowed = {row.get(f) for f in AMOUNT_FIELDS}
        for amount in self.literal_amounts:
            if amount not in allowed:
                return Finding("amounts_match", amount)
        windows = self.windows(row)
        for window in windows:
            for amount in AMOUNT.findall(window):
                if amount not in allowed:
                    return Finding("amounts_match", amount)
        allowed = {row.get(f) for f in DATE_FIELDS}
        for found in self.literal_dates:
            if found not in allowed:
                return Finding("dates_match", found)
        for window in windows:
            for found in DATE.findall(window):
                if found not in allowed:
                    return Finding("dates_match", found)
        return None

    def links(self, row: dict) -> Finding | None:
        if self.literal_link:
            return self.literal_link
        return self.linter._links_in("\n".join(self.windows(row, links=True)),
                                     self.jurisdiction)

    def forbidden(self, row: dict) -> Finding | None:
        windows = "\n".join(self.windows(row))
        if self.literal_forbidden:
            return self.linter._forbidden_in(self.literal_forbidden.group(0), row)
        finding = self.linter._forbidden_in(windows, row | {"time_barred": False})
        if finding:
            return finding
        if row.get("time_barred"):
            if self.literal_litigation:
                return Finding("time_barred_litigation", self.literal_litigation.group(0))
            return self.linter._forbidden_in(windows, row)
        return None


def _touches(text: str, match: re.Match) -> bool:
    start, end = match.span()
    return (start > 0 and text[start - 1] == "\x00") or (end < len(text) and text[end] == "\x00")


def _tail(text: str, links: bool) -> str:
    tail = text[-CONTEXT:]
    if links:
        stops = list(LINK_STOP.finditer(text))
        tail = text[stops[-1].start():] if stops else text
    return tail


def _head(text: str, links: bool) -> str:
    head = text[:CONTEXT]
    if links:
        stop = LINK_STOP.search(text)
        head = text[:stop.end()] if stop else text
    return head


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _registrable(domain: str) -> str:
    """The last two labels of a host (pay.xinghe-finance.cn -> xinghe-finance.cn)."""
    labels = domain.lower().rstrip(".").split(".")
    return ".".join(labels[-2:])


class _FormatRow(dict):
    """A contact row for str.format_map, with the lender block as `lender` and the channel's
    opt-out as `opt_out` (None where none is offered)."""

    def __init__(self, row: dict, lender: SimpleNamespace, opt_out: dict | None = None):
        super().__init__(row)
        self["lender"] = lender
        self["opt_out"] = SimpleNamespace(**opt_out) if opt_out else None

    def __missing__(self, key):
        raise KeyError(key)
