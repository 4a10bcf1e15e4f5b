"""Golden letters: every treatment x channel x locale rendered for one fixed hand-made account
(tests/collections/rows.py), read once by a person and pinned byte for byte.

A template edit that changes any output fails here on purpose. After reading the new rendering,
regenerate with

    OVERDUE_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/collections/test_collections_golden.py

and commit the changed files under tests/collections/golden/ with the template change.
"""

import os
from pathlib import Path

import pytest

from pipelines.lib.collections.linter import Linter
from pipelines.lib.collections.rendering import Renderer
from pipelines.lib.collections.strategy import load_strategy
from tests.collections.rows import contact

GOLDEN = Path(__file__).parent / "golden"
STRATEGY = load_strategy()
REGENERATE = os.environ.get("OVERDUE_REGENERATE_GOLDEN") == "1"

# (channel, template, locale, jurisdiction): every template x locale x channel the strategy can
# send, in each jurisdiction that sends it (SMS and e-mail in both locales in both; the CN lender
# writes letters in both locales; US letters are in English, the formal one the Regulation F
# validation notice).
CASES = [
    *[(channel, template, locale, jurisdiction)
      for channel, templates in (("sms", ("early_reminder", "soft_notice", "early_high")),
                                 ("email", ("early_reminder", "soft_notice", "formal_demand")))
      for template in templates for locale in ("zh-CN", "en-US") for jurisdiction in ("CN", "US")],
    ("letter", "formal_demand", "zh-CN", "CN"), ("letter", "formal_demand", "en-US", "CN"),
    ("letter", "final_notice", "zh-CN", "CN"), ("letter", "final_notice", "en-US", "CN"),
    ("letter", "final_notice", "en-US", "US"), ("letter", "validation_notice", "en-US", "US"),
]
# the account each template is written for
SITUATION = {
    "early_reminder": {"tier": "T0", "treatment": "early_reminder", "bucket": "M0",
                       "days_past_due": 0, "past_due_amount_text": "0.00",
                       "not_yet_due_text": "5,432.10"},
    "soft_notice": {"tier": "T1", "treatment": "soft_notice", "bucket": "M1",
                    "days_past_due": 12},
    "early_high": {"tier": "T2", "treatment": "early_high", "bucket": "M2", "days_past_due": 40},
    "formal_demand": {"tier": "T3", "treatment": "formal_demand", "bucket": "M3",
                      "days_past_due": 75},
    "validation_notice": {"tier": "T3", "treatment": "formal_demand", "bucket": "M3",
                          "days_past_due": 75},
    "final_notice": {"tier": "T4", "treatment": "final_notice", "bucket": "M5",
                     "days_past_due": 130},
}


def golden_row(channel: str, template: str, locale: str, jurisdiction: str) -> dict:
    us = jurisdiction == "US"
    days = SITUATION[template]["days_past_due"]
    days_text = f"逾期{days}天" if locale == "zh-CN" else f"{days} days past due"
    return contact(channel, template, locale, jurisdiction, **SITUATION[template],
                   days_past_due_text=days_text,
                   currency="USD" if us else "CNY", currency_symbol="$" if us else "¥",
                   **({"postal_code": "62701"} if locale == "en-US" else {}))


def rendered_files(channel: str, template: str, locale: str, jurisdiction: str
                   ) -> dict[str, str]:
    rendered = Renderer(STRATEGY).render(golden_row(channel, template, locale, jurisdiction))
    stem = f"{channel}.{template}.{locale}.{jurisdiction}"
    files = {}
    for part, text in rendered.parts.items():
        if channel == "email" and part == "txt":
            text = f"Subject: {rendered.subject}\n\n{text}"
        files[f"{stem}.{part}"] = text if text.endswith("\n") else text + "\n"
    return files


@pytest.mark.parametrize(("channel", "template", "locale", "jurisdiction"), CASES)
def test_rendering_equals_the_pinned_golden_file(channel, template, locale, jurisdiction):
    for name, text in rendered_files(channel, template, locale, jurisdiction).items():
        path = GOLDEN / name
        if REGENERATE:
            GOLDEN.mkdir(exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
        assert path.exists(), (f"no golden file {path.name}: render it with "
                               "OVERDUE_REGENERATE_GOLDEN=1, read it, then commit it")
        assert path.read_bytes() == text.encode("utf-8"), (
            f"{name} differs from its golden file. If the template change is intended, read the "
            "new rendering and regenerate: OVERDUE_REGENERATE_GOLDEN=1 .venv/bin/pytest "
            "tests/collections/test_collections_golden.py")


@pytest.mark.parametrize(("channel", "template", "locale", "jurisdiction"), CASES)
def test_golden_letter_states_the_accounts_facts(channel, template, locale, jurisdiction):
    """What a person checked when pinning: the account's own figures, masked, referenced."""
    row = golden_row(channel, template, locale, jurisdiction)
    text = "\n".join(rendered_files(channel, template, locale, jurisdiction).values())
    lender = STRATEGY.jurisdiction(jurisdiction).lender_for(locale)
    zh = locale == "zh-CN"
    assert ("尾号1234" if zh else "ending 1234") in text
    assert "AC00001234" not in text
    assert row["currency_symbol"] in text
    if template == "early_reminder":
        assert "250.00" in text and row["next_due_date_text"] in text
    elif template == "validation_notice":
        for figure in ("5,300.00", "182.10", "50.00", "0.00", "5,432.10", "April 3, 2026",
                       "June 10, 2026"):
            assert figure in text
    else:
        assert "1,234.56" in text
        assert (f"逾期{row['days_past_due']}天" if zh
                else f"{row['days_past_due']} days past due") in text
        if channel != "sms":
            for part in ("1,000.00", "150.00", "54.56", "30.00"):
                assert part in text
    opt_out = STRATEGY.jurisdiction(jurisdiction).opt_out(channel, locale)
    if channel == "sms":
        assert lender["sms_signature"] in text
        if jurisdiction == "US":
            assert ("回复STOP退订" if zh else "Reply STOP to opt out") in text
        else:
            assert opt_out is None and "退订" not in text and "STOP" not in text
        return
    assert lender["name"].replace("&", "&amp;") in text
    assert row["letter_id"] in text and row["letter_date_text"] in text
    assert lender["dispute_contact"].replace("&", "&amp;") in text
    if template != "early_reminder":
        assert ("您的权利" if zh else "Your rights") in text or template == "validation_notice"
        assert row["deadline_text"] in text or template == "validation_notice"
        assert "4,197.54" in text or template == "validation_notice"
    if channel == "email" and jurisdiction == "US":
        assert "https://www.galaxy-finance.example/unsubscribe" in text
    elif channel == "email":
        assert "unsubscribe" not in text.lower() and "退订" not in text
    if channel == "letter":
        assert row["postal_address"] in text and row["full_name"].replace("'", "&#39;") in text
    assert Linter(STRATEGY).lint(row, Renderer(STRATEGY).render(row)) is None
