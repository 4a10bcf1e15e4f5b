"""A hand-made contact row shaped like sql/collections/contacts_to_render.sql's, for the linter
and golden-letter tests: one fixed account (AC00001234 of CU0001234, night 2026-05-03)."""

from datetime import UTC, date, datetime
from decimal import Decimal

NIGHT = date(2026, 5, 3)
# Sent Monday 2026-05-04; stated by hand from the strategy's lags: SMS and e-mail the same day,
# a Chinese letter 3 working days later (Thursday), a US one 5 (the Monday after).
DELIVERY = {("CN", "letter"): date(2026, 5, 7), ("US", "letter"): date(2026, 5, 11)}
ZH_DATE = {date(2026, 5, 4): "2026年5月4日", date(2026, 5, 7): "2026年5月7日",
           date(2026, 5, 11): "2026年5月11日", date(2026, 5, 14): "2026年5月14日",
           date(2026, 5, 17): "2026年5月17日", date(2026, 5, 21): "2026年5月21日"}
EN_DATE = {date(2026, 5, 4): "May 4, 2026", date(2026, 5, 7): "May 7, 2026",
           date(2026, 5, 11): "May 11, 2026", date(2026, 5, 14): "May 14, 2026",
           date(2026, 5, 17): "May 17, 2026", date(2026, 5, 21): "May 21, 2026"}
# the payment deadline: delivery + payment_deadline_days (10)
DEADLINE = {date(2026, 5, 4): date(2026, 5, 14), date(2026, 5, 7): date(2026, 5, 17),
            date(2026, 5, 11): date(2026, 5, 21)}


def contact(channel="letter", template="formal_demand", locale="zh-CN", jurisdiction="CN",
            **overrides) -> dict:
    zh = locale == "zh-CN"
    delivery = DELIVERY.get((jurisdiction, channel), date(2026, 5, 4))
    dates = ZH_DATE if zh else EN_DATE
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
        "deadline_text": dates[DEADLINE[delivery]], "deadline": DEADLINE[delivery],
        "send_date": date(2026, 5, 4), "delivery_date": delivery,
        "delivery_date_text": dates[delivery],
        "next_due_date": date(2026, 5, 20),
        "instalment_due_date": None, "instalment_amount": None,
        "instalment_due_date_text": None, "instalment_amount_text": None,
        "amount_to_pay": Decimal("1234.56"), "amount_to_pay_text": "1,234.56",
        "past_due_principal": Decimal("1000.00"), "past_due_interest": Decimal("150.00"),
        "past_due_penalty_interest": Decimal("54.56"), "past_due_fees": Decimal("30.00"),
        "past_due_principal_text": "1,000.00", "past_due_interest_text": "150.00",
        "past_due_penalty_interest_text": "54.56", "past_due_fees_text": "30.00",
        "breakdown_available": True,
        "annual_interest_rate_text": "18.00%", "penalty_interest_rate_text": "18.25%",
        "contract_reference": "XH-2024-0001234",
        "contract_date_text": "2024年3月15日" if zh else "March 15, 2024",
        "contract_text": "合同编号XH-2024-0001234" if zh else "agreement no. XH-2024-0001234",
        "product_text": "循环额度账户" if zh else "revolving credit account",
        "days_past_due_text": "逾期75天" if zh else "75 days past due",
        "itemization_basis": "last_statement",
        "next_due_date_text": "2026年5月20日" if zh else "May 20, 2026",
        "itemization_date_text": None if zh else "April 3, 2026",
        "itemization_amount": Decimal("5300.00"), "charges_since": Decimal("182.10"),
        "payments_since": Decimal("50.00"), "credits_since": Decimal("0.00"),
        "itemization_amount_text": "5,300.00", "charges_since_text": "182.10",
        "payments_since_text": "50.00", "credits_since_text": "0.00",
        "validation_end_text": None if zh else "June 10, 2026", "time_barred": False,
        "reason_codes_zh": None, "reason_codes_en": None,
        "batch_written": False, "content_sha256": None, "corrects_letter_id": None,
    }
    row.update(overrides)
    return row
