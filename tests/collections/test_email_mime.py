"""The e-mail written directly (pipelines/lib/collections/mime.py) is, byte for byte, what Python's
`email` package wrote for the same letter (tooling/email_reference.py, the path it replaces),
and parses back to the headers and bodies it was given."""

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipelines.lib.collections.batch import build_email, envelope_address
from pipelines.lib.collections.rendering import Renderer
from tests.collections.test_collections_golden import CASES, STRATEGY, golden_row
from tooling.email_reference import reference_email

EMAIL_CASES = [case for case in CASES if case[0] == "email"]
RENDERER = Renderer(STRATEGY)


def _letter(case, **row_overrides):
    row = golden_row(*case) | row_overrides
    rendered = RENDERER.render(row)
    rules = STRATEGY.jurisdiction(row["jurisdiction"])
    address, _ = envelope_address(row["email"])
    return (row | {"email": address}, rendered, rules.lender_for(row["locale"]),
            rules.opt_out("email", row["locale"]))


def _words(text: str) -> str:
    """What a header keeps of a text through folding and parsing: its words (the parser strips
    and collapses white space, and decodes text that looks like an encoded word)."""
    return " ".join(text.split()) if "=?" not in text else "(encoded-word look-alike)"


def _same_bytes_and_parses_back(row, rendered, lender, opt_out):
    new = build_email(row, rendered, lender, opt_out)
    assert new == reference_email(row, rendered, lender, opt_out)
    message = email.message_from_bytes(new, policy=email.policy.default)
    assert _words(str(message["Subject"])) == _words(rendered.subject or "") or \
        "=?" in (rendered.subject or "")
    (to,) = message["To"].addresses
    assert to.addr_spec == row["email"]
    # a name folded over encoded words on two lines comes back with a space at each fold (the
    # email package's parser keeps the folding white space between encoded words of a phrase)
    assert "".join(_words(to.display_name).split()) == "".join(
        _words(row["full_name"] or "").split()) or "=?" in row["full_name"]
    assert message["From"].addresses[0].display_name == lender["name"]
    assert message["Message-ID"].startswith(f"<{row['letter_id']}@")
    assert message["X-Letter-Reference"] == row["letter_id"]
    assert message["X-Letter-Replaces"] == row.get("corrects_letter_id")
    assert (message["List-Unsubscribe"] is None) == (opt_out is None)
    assert email.utils.parsedate_to_datetime(message["Date"]) == row["scheduled_at"]
    text, html = (part.get_content().replace("\r\n", "\n") for part in message.iter_parts())

    def lines(body):
        return "\n".join(body.splitlines()) + "\n"
    assert (text, html) == (lines(rendered.parts["txt"]), lines(rendered.parts["html"]))
    return new


@pytest.mark.parametrize("case", EMAIL_CASES, ids="-".join)
def test_golden_letters_are_the_email_packages_bytes(case):
    _same_bytes_and_parses_back(*_letter(case))


LONG_SUBJECT_ZH = "【银河消费金融】" + "您的账户已逾期，请尽快还款以免影响征信记录。" * 4
AWKWARD_NAMES = [
    "欧阳娜娜", "", "司马" * 20, "Zhang, San", 'Mary "Mae" O\'Brien', "Nana 欧阳",
    "娜娜😀", "𠀀𠀁𠀂", "José Müller-Lüdenscheidt", "  娜娜  ", "O'Neil (Jr.)", "a" * 90,
    "欧阳 娜娜 " * 6, "=?utf-8?q?x?=", "李\u3000娜", "Émile Zola 左拉 " * 3, "back\\slash",
    "王芳30613", "Nana欧阳", "欧阳Nana2", "7娜", "娜\u00a0娜", "é", "王芳" + "3" * 40,
]
AWKWARD_SUBJECTS = [
    LONG_SUBJECT_ZH, "x" * 200, "Reminder: " + "payment due " * 12, "逾期 15 天 🙏 请还款",
    "𠀀" * 40, "A  B   C", "=?utf-8?b?5qyn?=", "", "Ünïcödé " * 12, " leading", "trailing ",
    "mixed ASCII and 中文 and more ASCII words to pass the fold column, then 中文 again 尾号1234",
]


@pytest.mark.parametrize("name", AWKWARD_NAMES)
@pytest.mark.parametrize("case", [("email", "formal_demand", "zh-CN", "CN"),
                                  ("email", "soft_notice", "en-US", "US")], ids="-".join)
def test_awkward_names_are_the_email_packages_bytes(case, name):
    _same_bytes_and_parses_back(*_letter(case, full_name=name))


@pytest.mark.parametrize("subject", AWKWARD_SUBJECTS)
def test_awkward_subjects_are_the_email_packages_bytes(subject):
    row, rendered, lender, opt_out = _letter(("email", "early_reminder", "zh-CN", "US"))
    _same_bytes_and_parses_back(row, replace(rendered, subject=subject), lender, opt_out)


@pytest.mark.parametrize("body", [
    "short ASCII\nlines only\n", "中文短行\n第二行", "x" * 200 + "\n" + "y\n" * 30,
    ("long ASCII line " * 10 + "\n") * 12, "é" * 100 + "\n", "one\r\ntwo\rthree\n\n\nend",
    "", "😀" * 30, ("第一行很长" * 20 + "\n") * 3,
])
def test_bodies_choose_and_write_the_transfer_encoding_as_the_email_package(body):
    row, rendered, lender, opt_out = _letter(("email", "formal_demand", "en-US", "US"))
    parts = {"txt": body, "html": f"<p>{body}</p>"}
    _same_bytes_and_parses_back(row, replace(rendered, parts=parts), lender, opt_out)


@pytest.mark.parametrize("address", ["n@example.cn", "First.Last+tag@xn--fiq228c.example",
                                     "o'hara@galaxy-finance.example", "a" * 60 + "@b.example"])
@pytest.mark.parametrize("when", [datetime(2026, 5, 4, 2, 0, tzinfo=UTC),
                                  datetime(2026, 12, 31, 23, 59, 59,
                                           tzinfo=timezone(timedelta(hours=8)))])
def test_addresses_dates_and_a_correction(address, when):
    row, rendered, lender, opt_out = _letter(("email", "formal_demand", "zh-CN", "US"),
                                             email=address, scheduled_at=when,
                                             corrects_letter_id="260503-ABCDEF0123.R1")
    _same_bytes_and_parses_back(row, rendered, lender, opt_out)
    _same_bytes_and_parses_back(row, rendered, lender | {"name": "Galaxy, Inc."}, None)
    _same_bytes_and_parses_back(row, rendered, lender | {"name": "银河消费金融有限公司"}, None)


def test_subjects_that_differ_by_letters_and_digits_fold_as_the_email_package():
    """A subject is folded once per shape (letters and digits made alike, then put back): every
    account number, at every distance from the fold, gives the email package's bytes."""
    row, rendered, lender, opt_out = _letter(("email", "formal_demand", "zh-CN", "CN"))
    stems = [rendered.subject, "【银河消费金融】逾期还款提醒（尾号", "Payment reminder, account ending ",
             "Ünïcödé 提醒 ", "😀 reminder "]
    for stem in stems:
        for pad in range(0, 48, 3):
            for tail in ("0000", "9137", "AbC9", "x1y2z3 中文 4"):
                subject = stem + "续" * (pad // 2) + "z" * (pad % 2) + tail + "）"
                new = build_email(row, replace(rendered, subject=subject), lender, opt_out)
                assert new == reference_email(row, replace(rendered, subject=subject), lender,
                                              opt_out), subject
