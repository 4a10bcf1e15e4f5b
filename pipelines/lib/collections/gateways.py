"""SMS as gateways take them (`pipelines/config/gateways.yaml`): per jurisdiction a provider, its
sender and the template code of each SMS template and locale.

Chinese gateways send only registered templates: the lender registers a text with `${field}`
placeholders under a sign name (签名) and each message names the template and its fields, so a
batch writes the registered texts (`sms_templates.json`) for operations to compare with what the
gateway approved. A template's fields are the contact fields its Jinja2 source prints, in order;
lender and opt-out values are constants of the registered text.

Carriers take a sender only where its kind is allowed: US and Canadian ones take no alphanumeric
ID (a long code, toll-free or short code instead), Chinese ones only a registered sign name sent
through a domestic template gateway. A contact whose destination does not fit its sender is held
(rule `sms_sender`); one whose text is not the registered template filled in is held with
`sms_template`. Errors in the file fail at load naming the file and key.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import yaml
from jinja2 import nodes

from pipelines import settings
from pipelines.lib.collections.linter import sms_length
from pipelines.lib.collections.rendering import (
    CONSTANT_FIELDS,
    LETTERS_DIR,
    environment,
    template_name,
)
from pipelines.lib.collections.strategy import LOCALES, Strategy

GATEWAYS_PATH = settings.REPO_ROOT / "pipelines" / "config" / "gateways.yaml"
PROVIDERS = ("aliyun", "twilio")
# E.164 country calling code -> ISO 3166 alpha-2 (the longest prefix wins); +1 is the North
# American plan, Canada told apart by its area codes
CALLING_CODES = {"1": "US", "86": "CN", "852": "HK", "853": "MO", "886": "TW", "65": "SG",
                 "60": "MY", "81": "JP", "82": "KR", "61": "AU", "64": "NZ", "44": "GB",
                 "49": "DE", "33": "FR", "91": "IN"}
CANADA_AREA_CODES = frozenset({
    "204", "226", "236", "249", "250", "263", "289", "306", "343", "354", "365", "367", "368",
    "382", "403", "416", "418", "428", "431", "437", "438", "450", "468", "474", "506", "514",
    "519", "548", "579", "581", "584", "587", "604", "613", "639", "647", "672", "683", "705",
    "709", "742", "753", "778", "780", "782", "807", "819", "825", "867", "873", "879", "902",
    "905"})
NANP = frozenset({"US", "CA"})
ALPHANUMERIC = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
LONG_CODE = re.compile(r"^\+[1-9][0-9]{6,14}$")
SHORT_CODE = re.compile(r"^[0-9]{5,6}$")
MESSAGING_SERVICE = re.compile(r"^MG[0-9a-f]{32}$")
SIGN_NAME = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9]{2,12}$")
TEMPLATE_CODE = re.compile(r"^[A-Za-z0-9_]{1,64}$")
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class GatewayError(ValueError):
    """gateways.yaml is invalid or does not cover the strategy; the message names the key."""


def destination_country(phone: str | None) -> str | None:
    """ISO country of an E.164 number from its calling code, or None when unknown."""
    if not phone or not E164.match(phone):
        return None
    digits = phone[1:]
    for length in (3, 2, 1):
        country = CALLING_CODES.get(digits[:length])
        if country:
            if country == "US" and digits[1:4] in CANADA_AREA_CODES:
                return "CA"
            return country
    return None


@dataclass(frozen=True)
class SmsGateway:
    jurisdiction: str
    provider: str
    sender_kind: str  # sign_name, alphanumeric, long_code, short_code, messaging_service_sid
    senders: dict[str, str]  # locale -> sender
    templates: dict[tuple[str, str], str]  # (template, locale) -> template code

    def sender(self, locale: str) -> str:
        return self.senders[locale]

    def misfit(self, country: str | None) -> str | None:
        """Why this gateway's sender cannot reach `country`, or None when it can."""
        kind = self.sender_kind.replace("_", " ")
        if country is None:
            return "destination country unknown (not an E.164 number of a known country)"
        if self.sender_kind == "sign_name":
            return None if country == "CN" else (
                f"destination {country}: a sign name (签名) template gateway sends to +86 only")
        if country == "CN":
            return f"destination CN: Chinese carriers take only a registered sign name, not a {kind}"
        if self.sender_kind == "alphanumeric" and country in NANP:
            return f"destination {country}: carriers take no alphanumeric sender ID"
        if self.sender_kind == "short_code" and country not in NANP:
            return f"destination {country}: a US/CA short code reaches +1 numbers only"
        return None

    def request(self, to: str, locale: str, text: str, code: str, params: dict) -> dict:
        """The message as the provider's send API takes it."""
        if self.provider == "aliyun":
            national = to.removeprefix("+86")
            return {"PhoneNumbers": national, "SignName": self.sender(locale),
                    "TemplateCode": code,
                    "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":"))}
        sender = ({"MessagingServiceSid": self.sender(locale)}
                  if self.sender_kind == "messaging_service_sid" else {"From": self.sender(locale)})
        return {"To": to, **sender, "Body": text}


@dataclass(frozen=True)
class Gateways:
    path: Path
    sms: dict[str, SmsGateway]

    def for_jurisdiction(self, code: str) -> SmsGateway:
        return self.sms[code]

    def check_strategy(self, strategy: Strategy) -> None:
        """Every jurisdiction of the strategy has a gateway with a code for every SMS template
        it can send, in every locale."""
        for code, jurisdiction in strategy.jurisdictions.items():
            if code not in self.sms:
                _fail(self.path, f"jurisdictions.{code}.sms", "missing (the strategy has this "
                      "jurisdiction)")
            for contact in strategy.contacts:
                if contact.channel != "sms":
                    continue
                template = jurisdiction.template_overrides.get(f"sms/{contact.template}",
                                                               contact.template)
                for locale in LOCALES:
                    if (template, locale) not in self.sms[code].templates:
                        _fail(self.path, f"jurisdictions.{code}.sms.templates.{template}.{locale}",
                              "missing: the strategy sends this SMS template")


def _fail(path: Path, key: str, message: str):
    raise GatewayError(f"{path.name}: {key}: {message}")


def _per_locale(path: Path, value, key: str) -> dict[str, str]:
    per_locale = value if isinstance(value, dict) else {locale: value for locale in LOCALES}
    for locale in LOCALES:
        if not isinstance(per_locale.get(locale), str):
            _fail(path, f"{key}.{locale}", "missing (give one text, or one per locale: zh-CN "
                  "and en-US)")
    unknown = sorted(set(per_locale) - set(LOCALES))
    if unknown:
        _fail(path, f"{key}.{unknown[0]}", f"unknown locale (expected {', '.join(LOCALES)})")
    return {locale: per_locale[locale] for locale in LOCALES}


def _sender(path: Path, spec: dict, provider: str, where: str) -> tuple[str, dict[str, str]]:
    if provider == "aliyun":
        names = _per_locale(path, spec.get("sign_name"), f"{where}.sign_name")
        for locale, name in names.items():
            if "【" in name or "】" in name:
                _fail(path, f"{where}.sign_name.{locale}", f"{name!r}: give the sign name "
                      "without 【】 (the gateway adds them)")
            if not SIGN_NAME.match(name):
                _fail(path, f"{where}.sign_name.{locale}", f"{name!r}: expected 2-12 Chinese "
                      "characters, letters or digits (no spaces or symbols)")
        return "sign_name", names
    if ("from" in spec) == ("messaging_service_sid" in spec):
        _fail(path, f"{where}.from", "give exactly one of from or messaging_service_sid")
    if "messaging_service_sid" in spec:
        sid = spec["messaging_service_sid"]
        if not isinstance(sid, str) or not MESSAGING_SERVICE.match(sid):
            _fail(path, f"{where}.messaging_service_sid", f"{sid!r}: expected MG and 32 hex digits")
        return "messaging_service_sid", {locale: sid for locale in LOCALES}
    senders = _per_locale(path, spec["from"], f"{where}.from")
    kinds = set()
    for locale, sender in senders.items():
        if LONG_CODE.match(sender):
            kinds.add("long_code")
        elif SHORT_CODE.match(sender):
            kinds.add("short_code")
        elif ALPHANUMERIC.match(sender):
            kinds.add("alphanumeric")
        else:
            _fail(path, f"{where}.from.{locale}", f"{sender!r}: not a sender ID (expected an "
                  "E.164 long code, a 5-6 digit short code, or 1-11 letters, digits and spaces "
                  "with a letter)")
    if len(kinds) > 1:
        _fail(path, f"{where}.from", "one kind of sender for every locale")
    return kinds.pop(), senders


def load_gateways(path: Path | None = None) -> Gateways:
    """The gateways at `path` (default: the repository's), validated; raises GatewayError."""
    path = Path(path or GATEWAYS_PATH)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GatewayError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise GatewayError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("jurisdictions"), dict):
        _fail(path, "jurisdictions", "expected a mapping of jurisdiction codes")
    unknown = sorted(set(raw) - {"version", "jurisdictions"})
    if unknown:
        _fail(path, unknown[0], "unknown key (allowed: jurisdictions, version)")
    gateways, codes = {}, {}
    for code, spec in raw["jurisdictions"].items():
        where = f"jurisdictions.{code}.sms"
        if not isinstance(spec, dict) or not isinstance(spec.get("sms"), dict):
            _fail(path, where, "expected a mapping with provider, sender and templates")
        sms = spec["sms"]
        provider = sms.get("provider")
        if provider not in PROVIDERS:
            _fail(path, f"{where}.provider", f"expected one of {', '.join(PROVIDERS)}, got "
                  f"{provider!r}")
        allowed = {"provider", "templates"} | (
            {"sign_name"} if provider == "aliyun" else {"from", "messaging_service_sid"})
        extra = sorted(set(sms) - allowed)
        if extra:
            _fail(path, f"{where}.{extra[0]}", f"not a {provider} key (allowed: "
                  f"{', '.join(sorted(allowed))})")
        kind, senders = _sender(path, sms, provider, where)
        templates = {}
        if not isinstance(sms.get("templates"), dict):
            _fail(path, f"{where}.templates", "expected a mapping template -> {locale: code}")
        for template, per_locale in sms["templates"].items():
            for locale, template_code in _per_locale(
                    path, per_locale, f"{where}.templates.{template}").items():
                key = f"{where}.templates.{template}.{locale}"
                if not TEMPLATE_CODE.match(template_code):
                    _fail(path, key, f"{template_code!r}: expected letters, digits and _")
                if template_code in codes:
                    _fail(path, key, f"{template_code} is already {codes[template_code]}: one "
                          "code is one registered text")
                codes[template_code] = key
                templates[(template, locale)] = template_code
        gateways[code] = SmsGateway(code, provider, kind, senders, templates)
    return Gateways(path, gateways)


@functools.cache
def template_fields(template: str, locale: str, root: Path = LETTERS_DIR) -> tuple[str, ...]:
    """The contact fields an SMS template prints, in the order it prints them (lender, opt-out
    and the other constants of a compiled template are not fields)."""
    env = environment(root)
    source, _, _ = env.loader.get_source(env, template_name("sms", template, locale, "txt"))
    fields: list[str] = []
    for output in env.parse(source).find_all(nodes.Output):
        for child in output.nodes:
            names = [child] if isinstance(child, nodes.Name) else list(child.find_all(nodes.Name))
            for name in names:
                if name.name not in CONSTANT_FIELDS and name.name not in fields:
                    fields.append(name.name)
    return tuple(fields)


@dataclass(frozen=True)
class Registered:
    code: str
    provider: str
    jurisdiction: str
    template: str
    locale: str
    sign_name: str | None
    fields: tuple[str, ...]
    text: str  # as registered: ${field} placeholders, without the gateway's 【sign name】
    problem: str | None  # why contacts of this template cannot be sent through the gateway


class SmsComposer:
    """Shapes a night's SMS for their gateways; registered texts are worked out once each."""

    def __init__(self, strategy: Strategy, gateways: Gateways, root: Path = LETTERS_DIR):
        gateways.check_strategy(strategy)
        self.strategy, self.gateways, self.root = strategy, gateways, root
        self._registered: dict[tuple[str, str, str], Registered] = {}

    def registered(self, jurisdiction: str, template: str, locale: str) -> Registered:
        key = (jurisdiction, template, locale)
        if key not in self._registered:
            self._registered[key] = self._register(*key)
        return self._registered[key]

    def _register(self, jurisdiction: str, template: str, locale: str) -> Registered:
        gateway = self.gateways.for_jurisdiction(jurisdiction)
        rules = self.strategy.jurisdiction(jurisdiction)
        try:
            fields = template_fields(template, locale, self.root)
        except jinja2.TemplateNotFound:
            _fail(self.gateways.path, f"jurisdictions.{jurisdiction}.sms.templates.{template}."
                  f"{locale}", f"no template reports/letters/sms/{template}.{locale}.txt.j2")
        context = {name: f"${{{name}}}" for name in fields} | {
            "channel": "sms", "template": template, "locale": locale,
            "jurisdiction": jurisdiction, "lender": rules.lender_for(locale),
            "opt_out": rules.opt_out("sms", locale)}
        env = environment(self.root)
        text = env.get_template(template_name("sms", template, locale, "txt")).render(
            context).strip()
        sign, problem = None, None
        if gateway.sender_kind == "sign_name":
            sign = gateway.sender(locale)
            prefix = f"【{sign}】"
            if text.startswith(prefix):
                text = text[len(prefix):]
            else:
                problem = (f"the text is not signed {prefix}, the sign name the gateway adds "
                           f"({self.gateways.path.name}: jurisdictions.{jurisdiction}.sms."
                           f"sign_name.{locale})")
        code = gateway.templates[(template, locale)]
        return Registered(code, gateway.provider, jurisdiction, template, locale, sign, fields,
                          text, problem)

    def compose(self, row: dict, text: str) -> tuple[dict | None, tuple[str, str] | None]:
        """The sms.jsonl record of a rendered SMS, or the (rule, span) it is held with."""
        jurisdiction, locale = row["jurisdiction"], row["locale"]
        gateway = self.gateways.for_jurisdiction(jurisdiction)
        registered = self.registered(jurisdiction, row["template"], locale)
        country = destination_country(row["mobile_phone"])
        misfit = gateway.misfit(country) or registered.problem
        if misfit:
            span = f"{gateway.provider} sender {gateway.sender(locale)!r}: {misfit}"
            return None, ("sms_sender", span)
        params = {name: "" if row[name] is None else str(row[name]) for name in registered.fields}
        filled = PLACEHOLDER.sub(lambda m: params[m.group(1)], registered.text)
        if registered.sign_name is not None:
            filled = f"【{registered.sign_name}】{filled}"
        if filled != text:
            span = (f"the text is not template {registered.code} filled in (the template "
                    "tests or transforms a contact field)")
            return None, ("sms_template", span)
        encoding, characters, segments = sms_length(text)
        return {
            "letter_id": row["letter_id"], "to": row["mobile_phone"],
            "destination_country": country, "provider": gateway.provider,
            "sender": gateway.sender(locale), "text": text, "encoding": encoding,
            "characters": characters, "segments": segments,
            "template_code": registered.code, "template_params": params,
            "scheduled_at": row["scheduled_at"].isoformat(),
            "request": gateway.request(row["mobile_phone"], locale, text, registered.code, params),
        }, None

    def registry(self) -> dict:
        """sms_templates.json: per template code, the text to register and its fields."""
        entries = {}
        for code, gateway in sorted(self.gateways.sms.items()):
            if code not in self.strategy.jurisdictions:
                continue
            for (template, locale), template_code in sorted(gateway.templates.items()):
                registered = self.registered(code, template, locale)
                entries[template_code] = {
                    "provider": registered.provider, "jurisdiction": code,
                    "template": template, "locale": locale, "sign_name": registered.sign_name,
                    "sender": gateway.sender(locale), "text": registered.text,
                    "params": list(registered.fields), "problem": registered.problem}
        return dict(sorted(entries.items()))
