"""SMS and e-mail as gateways take them: lengths by hand, the Aliyun request of a rendered SMS,
sender IDs per destination country, the opt-out headers of real .eml files of a night's batch."""

import csv
import email
import email.policy
import json
from datetime import date

import pytest

from pipelines.lib.collections import tiering
from pipelines.lib.collections.batch import write_batch
from pipelines.lib.collections.gateways import (
    GatewayError,
    SmsComposer,
    destination_country,
    load_gateways,
    sms_length,
)
from pipelines.lib.collections.rendering import Renderer
from tests.collections.book import STRATEGY, customer, snapshot, warehouse
from tests.collections.rows import contact

NIGHT = date(2026, 5, 3)
GATEWAYS = (load_gateways().path).read_text(encoding="utf-8")


@pytest.mark.parametrize("text, expected", [
    ("欠" * 70, ("UCS-2", 70, 1)),
    ("欠" * 71, ("UCS-2", 71, 2)),  # 67 + 4
    ("欠" * 134, ("UCS-2", 134, 2)),
    ("欠" * 135, ("UCS-2", 135, 3)),
    ("a" * 160, ("GSM-7", 160, 1)),
    ("a" * 161, ("GSM-7", 161, 2)),  # 153 + 8
    ("a" * 159 + "欠", ("UCS-2", 160, 3)),  # one Chinese character makes it UCS-2
])
def test_encoding_characters_and_segments(text, expected):
    assert sms_length(text) == expected


@pytest.mark.parametrize("phone, country", [
    ("+8613800138000", "CN"), ("+14155550123", "US"), ("+14165550123", "CA"),
    ("+85291234567", "HK"), ("+447700900123", "GB"), ("13800138000", None), (None, None),
])
def test_destination_country_from_the_e164_prefix(phone, country):
    assert destination_country(phone) == country


def test_aliyun_request_of_a_rendered_soft_notice():
    row = contact(channel="sms", template="soft_notice", tier="T1", treatment="soft")
    text = Renderer(STRATEGY).render(row).parts["txt"]
    composer = SmsComposer(STRATEGY, load_gateways())
    record, held = composer.compose(row, text)
    assert held is None
    params = {"account_last4": "1234", "days_past_due_text": "逾期75天", "currency_symbol": "¥",
              "amount_to_pay_text": "1,234.56", "deadline_text": "2026年5月14日"}
    assert record["template_params"] == params
    request = record["request"]
    assert json.loads(request["TemplateParam"]) == params
    assert set(request) == {"PhoneNumbers", "SignName", "TemplateCode", "TemplateParam"}
    assert request["PhoneNumbers"] == "13800138000"
    assert request["SignName"] == "星河金融"
    assert request["TemplateCode"] == "SMS_DEMO_0003"
    assert record["provider"] == "aliyun" and record["destination_country"] == "CN"
    # the registered text, filled in by hand and signed by the gateway, is the text sent
    registered = composer.registry()["SMS_DEMO_0003"]["text"]
    assert "【" not in registered and "${deadline_text}" in registered
    filled = registered
    for name, value in params.items():
        filled = filled.replace("${" + name + "}", value)
    assert "【星河金融】" + filled == text == record["text"]
    assert record["characters"] == len(text) and record["encoding"] == "UCS-2"
    assert record["segments"] == (1 if len(text) <= 70 else -(-len(text) // 67))


def test_twilio_request_carries_the_long_code_and_the_body():
    row = contact(channel="sms", template="soft_notice", locale="en-US", jurisdiction="US",
                  tier="T1", treatment="soft", mobile_phone="+14155550123",
                  timezone="America/Chicago")
    text = Renderer(STRATEGY).render(row).parts["txt"]
    record, held = SmsComposer(STRATEGY, load_gateways()).compose(row, text)
    assert held is None
    assert record["request"] == {"To": "+14155550123", "From": "+14155550199", "Body": text}
    assert record["encoding"] == "GSM-7" and record["template_code"] == "SMS_DEMO_0103"


def gateways_with(tmp_path, old: str, new: str):
    path = tmp_path / "gateways.yaml"
    assert old in GATEWAYS
    path.write_text(GATEWAYS.replace(old, new), encoding="utf-8")
    return load_gateways(path)


@pytest.mark.parametrize("old, new, key", [
    ('from: "+14155550199"', 'from: "Galaxy Finance:"', "jurisdictions.US.sms.from.zh-CN"),
    ('from: "+14155550199"', 'from: "GalaxyFinance1"', "jurisdictions.US.sms.from.zh-CN"),
    ("sign_name: {zh-CN: 星河金融", "sign_name: {zh-CN: 【星河金融】",
     "jurisdictions.CN.sms.sign_name.zh-CN"),
    ("sign_name: {zh-CN: 星河金融", "sign_name: {zh-CN: 星河消费金融有限公司上海分公司",
     "jurisdictions.CN.sms.sign_name.zh-CN"),
    ("en-US: SMS_DEMO_0004", "en-US: SMS_DEMO_0003",
     "jurisdictions.CN.sms.templates.soft_notice.en-US"),
    ("provider: twilio", "provider: sinch", "jurisdictions.US.sms.provider"),
])
def test_a_bad_gateway_file_fails_at_load_naming_the_key(tmp_path, old, new, key):
    with pytest.raises(GatewayError, match=f"gateways.yaml: {key}"):
        gateways_with(tmp_path, old, new)


def test_a_strategy_template_without_a_code_fails_naming_the_key(tmp_path):
    gateways = gateways_with(
        tmp_path, "        early_high: {en-US: SMS_DEMO_0105, zh-CN: SMS_DEMO_0106}\n", "")
    with pytest.raises(GatewayError,
                       match="jurisdictions.US.sms.templates.early_high.zh-CN: missing"):
        SmsComposer(STRATEGY, gateways)


# ---------------------------------------------------------------------------- a night's batch
US = {"country": "US", "preferred_language": "en-US", "timezone": "America/Chicago"}


def m1_book():
    """M1 accounts (T1: SMS + e-mail): 1 Chinese, 2 US, 3 Chinese customer with a US number,
    4 US customer with a Canadian (+1 416) number."""
    snapshots = [snapshot(NIGHT, n, 12, **({"currency": "USD"} if n in (2, 4) else {}))
                 for n in (1, 2, 3, 4)]
    customers = [customer(1, NIGHT), customer(2, NIGHT, mobile_phone="+14155550102", **US),
                 customer(3, NIGHT, mobile_phone="+14155550103"),
                 customer(4, NIGHT, mobile_phone="+14165550104", **US)]
    return snapshots, customers


def night_batch(tmp_path, gateways=None):
    conn = warehouse(*m1_book())
    tiering.build_tiers(conn, STRATEGY, NIGHT, NIGHT)
    tiering.plan_nights(conn, STRATEGY, NIGHT, NIGHT)
    summary = write_batch(conn, STRATEGY, NIGHT, tmp_path / "letters", write_pdfs=False,
                          gateways=gateways)
    return conn, summary


def sms_status(conn) -> dict[str, tuple]:
    return {account: (status, rule) for account, status, rule in conn.execute(
        "select account_id, status, held_rule from contact_history where channel = 'sms' "
        "and snapshot_date = ?", [NIGHT]).fetchall()}


def test_sms_records_and_holds_of_a_night(tmp_path):
    conn, summary = night_batch(tmp_path)
    assert sms_status(conn) == {
        "AC00000001": ("planned", None), "AC00000002": ("planned", None),
        "AC00000003": ("held", "sms_sender"),  # an Aliyun sign name reaches +86 only
        "AC00000004": ("planned", None)}
    records = [json.loads(line) for line in
               (summary.folder / "sms.jsonl").read_text(encoding="utf-8").splitlines()]
    by_country = {r["destination_country"]: r for r in records}
    assert set(by_country) == {"CN", "US", "CA"}
    assert by_country["CN"]["sender"] == "星河金融" and by_country["CN"]["provider"] == "aliyun"
    assert by_country["US"]["sender"] == by_country["CA"]["sender"] == "+14155550199"
    keys = {"letter_id", "to", "destination_country", "provider", "sender", "text", "encoding",
            "characters", "segments", "template_code", "template_params", "scheduled_at",
            "request"}
    assert all(set(r) == keys for r in records)
    held = list(csv.DictReader((summary.folder / "held.csv").open(encoding="utf-8")))
    assert [(h["account_id"], h["rule"]) for h in held] == [("AC00000003", "sms_sender")]
    assert "+1415" not in held[0]["span"]  # no phone number in the reason
    templates = json.loads((summary.folder / "sms_templates.json").read_text(encoding="utf-8"))
    assert {r["template_code"] for r in records} <= set(templates)
    assert "sms_sender" not in summary.failing_templates


def test_a_us_destination_with_an_alphanumeric_sender_is_held(tmp_path):
    gateways = gateways_with(tmp_path, 'from: "+14155550199"', 'from: "GalaxyFin"')
    conn, summary = night_batch(tmp_path, gateways)
    status = sms_status(conn)
    assert status["AC00000002"] == ("held", "sms_sender")
    assert status["AC00000004"] == ("held", "sms_sender")  # Canada takes none either
    assert status["AC00000001"] == ("planned", None)
    held = {h["account_id"]: h for h in
            csv.DictReader((summary.folder / "held.csv").open(encoding="utf-8"))}
    assert "alphanumeric" in held["AC00000002"]["span"]
    sms = (summary.folder / "sms.jsonl").read_text(encoding="utf-8")
    assert "GalaxyFin" not in sms and "+14155550102" not in sms


def test_unsubscribe_headers_only_where_an_opt_out_is_offered(tmp_path):
    conn, summary = night_batch(tmp_path)
    letters = dict(conn.execute("select letter_id, account_id from contact_history where "
                                "channel = 'email' and status = 'planned'").fetchall())
    messages = {letters[p.stem]: email.message_from_bytes(p.read_bytes(),
                                                         policy=email.policy.default)
                for p in (summary.folder / "email").glob("*.eml")}
    assert set(messages) == {"AC00000001", "AC00000002", "AC00000003", "AC00000004"}
    for account in ("AC00000002", "AC00000004"):  # US: Regulation F opt-out, RFC 8058
        message = messages[account]
        letter_id = message["X-Letter-Reference"]
        # folded onto a second line when long (RFC 2369 allows it): the value is unfolded
        assert message["List-Unsubscribe"].strip() == (
            f"<https://www.galaxy-finance.example/unsubscribe?ref={letter_id}>")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for account in ("AC00000001", "AC00000003"):  # China: none in collection contacts
        assert messages[account]["List-Unsubscribe"] is None
        assert messages[account]["List-Unsubscribe-Post"] is None
