"""A hand-made contact row shaped like sql/collections/contacts_to_render.sql's, for the linter
and golden-letter tests: one fixed account (AC00001234 of CU0001234, night 2026-05-03)."""

from datetime import UTC, date, datetime
from decimal import Decimal

NIGHT = date(2026, 5, 3)


def contact(channel="letter", template="formal_demand", locale="zh-CN", jurisdiction="CN",
            **overrides) -> dict:
    zh = locale == "zh-CN"
    row = {
        "contact_id": "260503-ABCDEF0123", "letter_id": "260503-ABCDEF0123",
        "snapshot_date": NIGHT, "account_id": "AC00001234", "customer_id": "CU0001234",
        "recipient_customer_id": "CU0001234", "tier": "T3", "treatment": "formal_demand",
        "channel": channel, "template": template, "locale": locale,
        "jurisdiction": jurisdiction, "queue": None, "priority": None,
        "scheduled_at": datetime(2026, 5, 4, 2, 0, tzinfo=UTC) if jurisdiction == "CN"
        else datetime(2026, 5, 4, 15, 0, tzinfo=UTC),
        "timezone": "Asia/Shanghai" if jurisdiction == "CN" else "America/Chicago",
        "cap_count": 1, "cap_max": 1, "last_conversation": None, "destination_holders": 1,
        "full_name": "欧阳娜娜" if zh else "Mary O'Brien",
        "postal_address": "朝阳区建国路88号" if zh else "12 Oak Street",
        "city": "北京" if zh else "Springfield", "region": "北京" if zh else "IL",
        "postal_code": "100022", "mobile_phone": "+8613800138000", "email": "n@example.cn",
        "account_last4": "1234", "currency": "CNY", "currency_symbol": "¥",
        "past_due_amount": Decimal("1234.56"), "balance": Decimal("5432.10"),
        "amount_due": Decimal("250.00"), "not_yet_due": Decimal("4197.54"),
        "days_past_due": 75, "bucket": "M3", "risk_grade": None,
        "past_due_amount_text": "1,234.56", "balance_text": "5,432.10",
        "amount_due_text": "250.00", "not_yet_due_text": "4,197.54",
        "letter_date_text": "2026年5月3日" if zh else "May 3, 2026",
        "deadline_text": "2026年5月13日" if zh else "May 13, 2026",
        "next_due_date_text": "2026年5月20日" if zh else "May 20, 2026",
        "itemization_date_text": None if zh else "April 3, 2026",
        "itemization_amount": Decimal("5300.00"), "charges_since": Decimal("182.10"),
        "payments_since": Decimal("50.00"), "credits_since": Decimal("0.00"),
        "itemization_amount_text": "5,300.00", "charges_since_text": "182.10",
        "payments_since_text": "50.00", "credits_since_text": "0.00",
        "validation_end_text": None if zh else "June 7, 2026", "time_barred": False,
        "reason_codes_zh": None, "reason_codes_en": None,
    }
    row.update(overrides)
    return row
