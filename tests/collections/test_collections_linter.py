"""The compliance linter: one case per DOMAIN §5 rule, each a letter or template that breaks it.

Contacts are rows shaped like sql/collections/contacts_to_render.sql's; the good ones render from
the real templates and pass; each violation changes one thing and must be held with its rule.
"""

import shutil
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from markupsafe import escape

from pipelines.lib.collections.linter import Linter
from pipelines.lib.collections.rendering import LETTERS_DIR, Rendered, Renderer
from pipelines.lib.collections.strategy import load_strategy
from tests.collections.rows import contact

STRATEGY = load_strategy()


def lint(row: dict, rendered: Rendered | None = None, renderer: Renderer | None = None):
    rendered = rendered or (renderer or Renderer(STRATEGY)).render(row)
    return Linter(STRATEGY).lint(row, rendered)


GOOD = [
    ("letter", "formal_demand", "zh-CN", "CN"), ("letter", "formal_demand", "en-US", "CN"),
    ("letter", "final_notice", "zh-CN", "CN"), ("letter", "final_notice", "en-US", "US"),
    ("letter", "validation_notice", "en-US", "US"),
    ("email", "formal_demand", "zh-CN", "CN"), ("email", "formal_demand", "en-US", "US"),
    ("email", "soft_notice", "zh-CN", "CN"), ("email", "soft_notice", "en-US", "US"),
    ("email", "early_reminder", "zh-CN", "CN"), ("email", "early_reminder", "en-US", "US"),
    ("sms", "soft_notice", "zh-CN", "CN"), ("sms", "soft_notice", "en-US", "US"),
    ("sms", "early_high", "zh-CN", "CN"), ("sms", "early_high", "en-US", "US"),
    ("sms", "early_reminder", "zh-CN", "CN"), ("sms", "early_reminder", "en-US", "US"),
]


@pytest.mark.parametrize(("channel", "template", "locale", "jurisdiction"), GOOD)
def test_every_template_passes_for_a_clean_account(channel, template, locale, jurisdiction):
    row = contact(channel, template, locale, jurisdiction,
                  currency_symbol="$" if jurisdiction == "US" else "¥")
    assert lint(row) is None


def _edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


def letter(locale="zh-CN", **overrides) -> tuple[dict, Rendered]:
    row = contact(locale=locale, **overrides)
    return row, Renderer(STRATEGY).render(row)


def with_html(rendered: Rendered, html: str) -> Rendered:
    return Rendered({"html": html}, rendered.subject)


def edited(old: str, new: str, **overrides):
    """A violating letter: the clean rendering of `overrides` with `old` replaced by `new`."""
    def make():
        row, rendered = letter(**overrides)
        return row, with_html(rendered, _edit(rendered.parts["html"], old, new))
    return make


def changed(**overrides):
    """A violating contact: the clean letter of an account whose row breaks a rule."""
    return lambda: letter(**overrides)


US_NOTICE = {"locale": "en-US", "jurisdiction": "US", "template": "validation_notice"}
VIOLATIONS = {
    "recipient_is_debtor": changed(recipient_customer_id="CU9999999"),
    "recipient_is_debtor_shared": changed(destination_holders=2),
    "allowed_hours": changed(scheduled_at=datetime(2026, 5, 3, 15, 0, tzinfo=UTC)),  # 23:00
    "allowed_hours_unknown_zone": changed(timezone="Mars/Olympus"),
    "contact_cap": changed(cap_count=2, cap_max=1),
    "unmasked_account": edited("（尾号1234）", "（尾号1234，账号AC00001234）"),
    "required_elements": edited("您的权利", "说明"),
    "amounts_match": edited("¥1,234.56</td>", "¥1,234.56</td><td>¥9,999.00</td>"),
    "dates_match": edited("现正式通知您", "2026年6月1日前现正式通知您"),
    "official_channels": edited("我们不会要求", "也可转账至 https://pay-me-now.example.com 。我们不会要求"),
    "itemization_arithmetic": changed(**US_NOTICE, charges_since=Decimal("182.11"),
                                      charges_since_text="182.11"),
    # the money on the delivery day (a Chinese letter of 2026-05-03 arrives 2026-05-07)
    "letter_arithmetic_breakdown": changed(past_due_fees=Decimal("30.01"), past_due_fees_text="30.01"),
    "letter_arithmetic_instalment": changed(next_due_date=date(2026, 5, 6)),
    "letter_arithmetic_balance": changed(not_yet_due=Decimal("4197.55"),
                                         not_yet_due_text="4,197.55"),
    "letter_arithmetic_text": changed(amount_to_pay_text="1,234.65"),
    "letter_arithmetic_deadline": changed(deadline=date(2026, 5, 13),
                                          deadline_text="2026年5月13日"),
    "reminder_after_due_date": changed(channel="sms", template="early_reminder",
                                       next_due_date=date(2026, 5, 3)),
    "time_barred_litigation": edited(
        "If you have already paid", "We may file a lawsuit. If you have already paid",
        locale="en-US", jurisdiction="US", template="final_notice", time_barred=True),
}


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
def test_a_letter_breaking_a_rule_is_held_with_that_rule(case):
    row, rendered = VIOLATIONS[case]()
    finding = lint(row, rendered)
    assert finding is not None
    assert finding.rule == case.replace("_shared", "").replace("_unknown_zone", "").removesuffix(
        "_breakdown").removesuffix("_instalment").removesuffix("_balance").removesuffix(
        "_text").removesuffix("_deadline")


INSTALMENT = {
    "next_due_date": date(2026, 5, 6), "instalment_due_date": date(2026, 5, 6),
    "instalment_amount": Decimal("250.00"), "instalment_amount_text": "250.00",
    "instalment_due_date_text": "2026年5月6日", "amount_to_pay": Decimal("1484.56"),
    "amount_to_pay_text": "1,484.56", "not_yet_due": Decimal("3947.54"),
    "not_yet_due_text": "3,947.54"}


def test_an_instalment_falling_due_before_delivery_is_asked_for():
    """Night 2026-05-03, the letter arrives 2026-05-07; 250.00 falls due 2026-05-06: the letter
    asks for 1,234.56 past due + 250.00 = 1,484.56, and 5,432.10 - 1,484.56 = 3,947.54 is not
    yet due (figures by hand)."""
    row, rendered = letter(**INSTALMENT)
    assert lint(row, rendered) is None
    html = rendered.parts["html"]
    for text in ("2026年5月6日到期的本期应还</th><td>¥250.00", "截至2026年5月7日应还合计",
                 "¥1,484.56", "尚未到期金额</th><td>¥3,947.54", "还款截止日</th><td>2026年5月17日"):
        assert text in html


def test_an_early_reminder_delivered_on_its_due_date_goes():
    row = contact("sms", "early_reminder", next_due_date=date(2026, 5, 4),
                  next_due_date_text="2026年5月4日")
    assert lint(row) is None


def test_a_lender_without_a_breakdown_prints_per_statement_or_holds(tmp_path):
    bare = {"past_due_principal": None, "past_due_interest": None,
            "past_due_penalty_interest": None, "past_due_fees": None,
            "past_due_principal_text": None, "past_due_interest_text": None,
            "past_due_penalty_interest_text": None, "past_due_fees_text": None,
            "breakdown_available": False}
    row, rendered = letter(**bare)
    assert lint(row, rendered) is None
    assert "逾期金额（本金、利息、罚息、违约金明细以您的账单为准）</th><td>¥1,234.56" in rendered.parts["html"]
    text = STRATEGY.path.read_text(encoding="utf-8").replace(
        "breakdown_missing: per_statement", "breakdown_missing: hold")
    (tmp_path / "collection_strategy.yaml").write_text(text, encoding="utf-8")
    holding = load_strategy(tmp_path / "collection_strategy.yaml")
    finding = Linter(holding).lint(row, Renderer(holding).render(row))
    assert finding.rule == "breakdown_missing"


FORMAL_ZH = [name for name, _ in Linter(STRATEGY).elements("CN", "letter", "formal_demand",
                                                             "zh-CN")]


@pytest.mark.parametrize("element", FORMAL_ZH)
def test_a_chinese_formal_letter_missing_an_element_is_held_naming_it(element):
    """Each required element of the zh-CN formal demand (breakdown, legal basis, regulator,
    dispute with evidence, credit-reporting notice, seal...): take its text out, the letter is
    held and the finding names the element (or an earlier one sharing the text)."""
    from types import SimpleNamespace

    from pipelines.lib.collections.linter import _FormatRow

    linter = Linter(STRATEGY)
    row, rendered = letter(**INSTALMENT)  # an account for which every element says something
    values = _FormatRow(row, SimpleNamespace(**STRATEGY.jurisdiction("CN").lender_for("zh-CN")))
    specs = dict(linter.elements("CN", "letter", "formal_demand", "zh-CN"))

    def texts(name):
        spec = specs[name]
        if isinstance(spec, dict):
            return [f.format_map(values) for f in spec.get("then" if row.get(spec["when"])
                                                            else "else", [])]
        return [spec.format_map(values)]

    html = rendered.parts["html"]
    removed = texts(element)
    assert removed, f"{element} requires nothing of this account"
    for text in removed:
        html = html.replace(str(escape(text)), "")
    finding = linter.lint(row, with_html(rendered, html))
    assert finding is not None and finding.rule == "required_elements"
    named = finding.span.split(" ")[0].rstrip(":")
    earlier = FORMAL_ZH[:FORMAL_ZH.index(element)]
    assert named == element or (named in earlier and any(
        str(escape(t)) not in html for t in texts(named)))


FORBIDDEN = {
    "impersonation": ("zh-CN", "公安机关已掌握您的情况"), "threat": ("zh-CN", "否则后果自负"),
    "insult": ("zh-CN", "老赖"), "violence": ("en-US", "we will hurt you"),
    "third_party": ("zh-CN", "我们将联系您的家人"), "gang": ("en-US", "our associates will visit"),
    "fake_blacklist": ("zh-CN", "您已被列入黑名单"), "false_legal": ("en-US", "you face arrest"),
    "borrow_elsewhere": ("zh-CN", "可以以贷还贷"), "collection_fee": ("en-US",
                                                              "a collection fee of 50 applies"),
    "public_notice": ("zh-CN", "将在朋友圈曝光"), "exaggerated_consequence": ("en-US",
                                                                     "this will ruin your credit"),
}


@pytest.mark.parametrize("category", sorted(FORBIDDEN))
def test_each_forbidden_phrase_category_holds_the_letter(category):
    locale, phrase = FORBIDDEN[category]
    row, rendered = letter(locale=locale)
    marker = "<h3>"
    finding = lint(row, with_html(rendered, rendered.parts["html"].replace(
        marker, f"<p>{phrase}</p>{marker}", 1)))
    assert finding is not None and finding.rule == "forbidden_phrase"
    assert finding.span.startswith(category)


def test_a_template_that_forgets_the_opt_out_is_held(tmp_path):
    root = tmp_path / "letters"
    shutil.copytree(LETTERS_DIR, root)
    path = root / "sms" / "soft_notice.en-US.txt.j2"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "{% if opt_out %} {{ opt_out.text }}{% endif %}", ""), encoding="utf-8")
    row = contact("sms", "soft_notice", "en-US", "US", currency_symbol="$",
                  days_past_due_text="75 days past due")
    finding = lint(row, renderer=Renderer(STRATEGY, root))
    assert (finding.rule, finding.span) == ("opt_out", "opt_out_sms missing from the txt part")


@pytest.mark.parametrize("channel", ["sms", "email"])
def test_a_chinese_collection_contact_offering_an_opt_out_is_held(tmp_path, channel):
    """China's collection contacts are service notices and demands: a marketing "回T退订" does
    not belong in them (the jurisdiction offers no opt-out)."""
    root = tmp_path / "letters"
    shutil.copytree(LETTERS_DIR, root)
    for part in ("txt",) if channel == "sms" else ("txt", "html"):
        path = root / channel / f"soft_notice.zh-CN.{part}.j2"
        text = path.read_text(encoding="utf-8")
        edited = (text.rstrip("\n") + "回T退订\n" if channel == "sms"
                  else text.replace("如已还款，请忽略本邮件。", "如已还款，请忽略本邮件。退订请回复TD。"))
        path.write_text(edited, encoding="utf-8")
    finding = lint(contact(channel, "soft_notice"), renderer=Renderer(STRATEGY, root))
    assert finding.rule == "opt_out" and "offers none" in finding.span


def test_a_too_long_chinese_sms_is_held(tmp_path):
    root = tmp_path / "letters"
    shutil.copytree(LETTERS_DIR, root)
    path = root / "sms" / "soft_notice.zh-CN.txt.j2"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "特此告知：", "感谢您一直以来对我们的支持与信任，我们始终致力于为您提供优质的金融服务。" * 2
        + "特此告知："),
        encoding="utf-8")
    finding = lint(contact("sms", "soft_notice"), renderer=Renderer(STRATEGY, root))
    assert finding.rule == "sms_length" and "UCS-2" in finding.span


def test_customer_data_never_trips_the_phrase_or_amount_rules():
    row = contact(full_name="Police 12.50", postal_address="1 Sheriff Lane, 2026年1月1日",
                  locale="en-US")
    assert lint(row) is None


def test_us_and_chinese_customers_get_their_own_jurisdictions_rules():
    # 21:30 local: allowed in China (until 22:00), not in the US (until 21:00)
    china = contact(scheduled_at=datetime(2026, 5, 4, 13, 30, tzinfo=UTC))
    us = contact(locale="en-US", jurisdiction="US", template="final_notice",
                 timezone="America/Chicago", scheduled_at=datetime(2026, 5, 5, 2, 30, tzinfo=UTC))
    assert lint(china) is None
    assert lint(us).rule == "allowed_hours"
    # a call within 7 days of a conversation: presumed harassment in the US only
    call = {"channel": "phone", "template": None, "queue": "phone_formal",
            "last_conversation": date(2026, 5, 1), "cap_count": 0, "cap_max": None}
    assert Linter(STRATEGY).lint(contact(**call), None) is None
    us_call = contact(locale="en-US", jurisdiction="US", timezone="America/Chicago",
                      **call | {"cap_max": 7})
    assert Linter(STRATEGY).lint(us_call, None).rule == "contact_cap"
    # suing on time-barred debt is held in the US
    assert lint(contact(locale="en-US", jurisdiction="US", template="final_notice",
                        time_barred=True)) is None  # our notice threatens nothing
    # the US formal letter is the validation notice, in English
    assert STRATEGY.jurisdiction("US").template_overrides["letter/formal_demand"] == \
        "validation_notice"


FIELD_TRAPS = {
    "amounts_match": {"account_last4": "12.50"},
    "official_channels": {"account_last4": "1234 https://pay-me-now.example.com/x"},
    "forbidden_phrase": {"account_last4": "1234, you face arrest"},
    None: {"full_name": "Police 12.50 https://evil.example.com"},  # personal: never scanned
}


@pytest.mark.parametrize("expected", list(FIELD_TRAPS), ids=str)
@pytest.mark.parametrize(("channel", "template"), [("sms", "soft_notice"),
                                                   ("email", "formal_demand")])
def test_compiled_fast_path_lints_exactly_like_the_full_text(channel, template, expected):
    """Compiled templates are linted from their literal text (once) plus each field's window;
    a field carrying an amount, a link or a phrase is held just as the full-text scan holds it."""
    row = contact(channel, template, "en-US", "US", currency_symbol="$", **FIELD_TRAPS[expected])
    rendered = Renderer(STRATEGY).render(row)
    assert rendered.layout is not None
    plain = Rendered(rendered.parts, rendered.subject)
    fast, slow = Linter(STRATEGY).lint(row, rendered), Linter(STRATEGY).lint(row, plain)
    assert fast == slow
    assert (fast.rule if fast else None) in {expected, "sms_length"}  # a long field: 2 segments
