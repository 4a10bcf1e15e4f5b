"""One record never stops a batch: a contact whose rendering, e-mail address, MIME message, SMS,
print layout or work-list line fails is held with its rule and the error (no personal data in
it), and every other contact of its channel is released. Real DuckDB, real files, real PDFs;
failures are injected into one contact per channel by monkeypatching that channel's step.

The book (night 2026-05-03), customer = account number:
  1-3 M1 (T1 soft notice: SMS + e-mail)
  4-7 M3 (T3 formal demand: print letter + e-mail + call task)
E-mail addresses as core systems deliver them: 1 full-width, 2 an IDN domain in Chinese, 4 an
IDN domain with an umlaut, 5 a Chinese local part (needs SMTPUTF8: held), the others ASCII.
"""

import csv
import email
import email.policy
import json
import os
import subprocess
from datetime import date

import pytest

from pipelines import settings
from pipelines.lib.collections import batch, pdf, pdf_typst
from pipelines.lib.collections.batch import envelope_address, write_batch
from pipelines.lib.collections.gateways import SmsComposer
from pipelines.lib.collections.rendering import Renderer
from tests.collections.book import STRATEGY, customer, run_night, snapshot, warehouse
from tests.collections.rows import contact

NIGHT = date(2026, 5, 3)
EMAILS = {1: "ｎａｎａ＠ｅｘａｍｐｌｅ．ｃｎ", 2: "nana@例子.中国", 4: "nana@bücher.de",
          5: "nana.王@example.cn"}
LONG_ADDRESS = "朝阳区建国路88号院" * 120_000  # about 1 MB of UTF-8


def account(number: int) -> str:
    return f"AC{number:08d}"


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    snapshots = [snapshot(NIGHT, n, 12) for n in (1, 2, 3)] + \
        [snapshot(NIGHT, n, 75) for n in (4, 5, 6, 7)]
    customers = [customer(n, NIGHT, email=EMAILS.get(n, f"c{n}@example.cn"),
                          full_name=f"欧阳娜娜{n}",
                          **({"postal_address": LONG_ADDRESS} if n == 7 else {}))
                 for n in range(1, 8)]
    conn = warehouse(snapshots, customers)
    run_night(conn, NIGHT)
    return conn, tmp_path_factory.mktemp("isolation")


def contact_id(conn, number: int, channel: str) -> str:
    return conn.execute("select contact_id from contact_history where account_id = ? and "
                        "channel = ? and snapshot_date = ?",
                        [account(number), channel, NIGHT]).fetchall()[0][0]


def read_csv(path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def recipients(folder) -> dict[str, str]:
    found = {}
    for path in (folder / "email").iterdir():
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found[path.stem] = message["To"].addresses[0].addr_spec
    return found


def test_envelope_addresses_by_hand():
    assert envelope_address("nana@例子.中国") == ("nana@xn--fsqu00a.xn--fiqs8s", False)
    assert envelope_address("nana@bücher.de") == ("nana@xn--bcher-kva.de", False)
    assert envelope_address("ｎａｎａ＠ｅｘａｍｐｌｅ．ｃｎ") == ("nana@example.cn", True)
    assert envelope_address(" Nana@Example.CN ") == ("Nana@example.cn", False)
    for bad in ("nana.王@example.cn", "nana", "@example.cn", "nana@", "nana@localhost",
                "na na@example.cn", "nana@exa_mple..cn", None):
        with pytest.raises(batch.InvalidEmail) as raised:
            envelope_address(bad)
        assert "nana" not in str(raised.value) and "王" not in str(raised.value)


def test_real_addresses_go_out_or_are_held_alone(book):
    conn, tmp = book
    summary = write_batch(conn, STRATEGY, NIGHT, tmp / "real", write_pdfs=False)
    assert not summary.blocked
    to = recipients(summary.folder)
    assert to[contact_id(conn, 1, "email")] == "nana@example.cn"
    assert to[contact_id(conn, 2, "email")] == "nana@xn--fsqu00a.xn--fiqs8s"
    assert to[contact_id(conn, 4, "email")] == "nana@xn--bcher-kva.de"
    assert to[contact_id(conn, 3, "email")] == "c3@example.cn"
    assert len(to) == 6  # all but account 5
    manifest = {m["letter_id"]: m for m in read_csv(summary.folder / "manifest.csv")}
    assert manifest[contact_id(conn, 1, "email")]["note"] == "email_nfkc"
    assert manifest[contact_id(conn, 2, "email")]["note"] == ""
    assert summary.email_normalised == 1
    held = read_csv(summary.folder / "held.csv")
    by_id = {h["contact_id"]: h for h in held}
    invalid = by_id[contact_id(conn, 5, "email")]
    assert invalid["rule"] == "invalid_email"
    assert invalid["span"].startswith("the local part is not ASCII")
    text = (summary.folder / "held.csv").read_text(encoding="utf-8")
    assert "王" not in text and "nana" not in text and "欧阳娜娜" not in text
    row = conn.execute("select status, held_rule from contact_history where contact_id = ?",
                       [invalid["contact_id"]]).fetchall()[0]
    assert row == ("held", "invalid_email")
    # everything else of the channel went: 3 SMS, 6 e-mails, 4 print letters (no PDFs here)
    assert summary.by_channel == {"sms": 3, "email": 6, "letter": 4, "phone": 4}
    counts = json.loads((summary.folder / "summary.json").read_text(encoding="utf-8"))
    assert counts["held_by_rule"] == {"invalid_email": 1}


def test_one_failing_contact_per_channel_is_held_and_the_rest_released(book, monkeypatch):
    conn, tmp = book
    fail = {"sms": contact_id(conn, 2, "sms"), "email": contact_id(conn, 6, "email"),
            "render": contact_id(conn, 3, "email"), "letter": contact_id(conn, 4, "letter"),
            "phone": contact_id(conn, 5, "phone")}

    def boom(row):
        raise ValueError(f"boom {row['full_name']} {row['email']} {row['mobile_phone']}")

    def failing(original, key, position):
        def wrapped(*args, **kwargs):
            row = args[position]
            if row["contact_id"] == fail[key]:
                boom(row)
            return original(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(SmsComposer, "compose", failing(SmsComposer.compose, "sms", 1))
    monkeypatch.setattr(batch, "build_email", failing(batch.build_email, "email", 0))
    monkeypatch.setattr(Renderer, "render", failing(Renderer.render, "render", 1))
    monkeypatch.setattr(batch, "work_row", failing(batch.work_row, "phone", 1))
    # each engine's per-letter step: WeasyPrint's layout, Typst's letter source
    engine, step = ((pdf_typst, "letter_source") if settings.print_engine() == "typst"
                    else (pdf, "layout_letter"))
    layout = getattr(engine, step)

    def failing_layout(letter_id, *args):
        if letter_id == fail["letter"]:
            raise RuntimeError("Pango could not lay out this line")
        return layout(letter_id, *args)

    monkeypatch.setattr(engine, step, failing_layout)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # the PDFs in this process, patched
    summary = write_batch(conn, STRATEGY, NIGHT, tmp / "injected")

    assert not summary.blocked
    held = {h["contact_id"]: (h["rule"], h["span"]) for h in read_csv(summary.folder / "held.csv")}
    redacted = "ValueError: boom <full_name> <email> <mobile_phone>"
    assert held[fail["sms"]] == ("sms_encoding_error", redacted)
    assert held[fail["email"]] == ("email_build_error", redacted)
    assert held[fail["render"]] == ("render_error", redacted)
    assert held[fail["phone"]] == ("work_list_error", redacted)
    assert held[fail["letter"]] == ("pdf_layout_error",
                                    "RuntimeError: Pango could not lay out this line")
    assert held[contact_id(conn, 7, "letter")][0] == "address_too_long"
    assert held[contact_id(conn, 5, "email")][0] == "invalid_email"
    assert len(held) == 7
    for number in (1, 2, 3, 4, 5, 6, 7):
        assert f"欧阳娜娜{number}" not in (summary.folder / "held.csv").read_text(encoding="utf-8")

    manifest = read_csv(summary.folder / "manifest.csv")
    released = {(m["account_id"], m["channel"]) for m in manifest}
    assert {a for a, c in released if c == "sms"} == {account(1), account(3)}
    assert {a for a, c in released if c == "email"} == {account(n) for n in (1, 2, 4, 7)}
    assert {a for a, c in released if c == "letter"} == {account(5), account(6)}
    work = read_csv(summary.folder / "work_list.csv")
    assert {w["account_id"] for w in work} == {account(4), account(6), account(7)}
    index = read_csv(summary.folder / "print" / "index.csv")
    assert {r["account_id"] for r in index} == {account(5), account(6)}
    text = subprocess.run(["pdftotext", str(summary.folder / "print" / index[0]["file"]), "-"],
                          check=True, capture_output=True, text=True).stdout
    assert text.count("逾期还款催收函") == 2
    ticket = json.loads((summary.folder / "print" / "job_ticket.json").read_text())
    assert ticket["totals"]["letters"] == 2
    statuses = dict(conn.execute(
        "select contact_id, held_rule from contact_history where status = 'held' and "
        "snapshot_date = ?", [NIGHT]).fetchall())
    assert {k: v for k, v in statuses.items() if k in fail.values()} == {
        fail["sms"]: "sms_encoding_error", fail["email"]: "email_build_error",
        fail["render"]: "render_error", fail["phone"]: "work_list_error",
        fail["letter"]: "pdf_layout_error"}


def test_a_failure_in_every_contact_of_a_template_still_blocks_the_batch(book, monkeypatch):
    conn, tmp = book
    render = Renderer.render

    def broken_sms(self, row):
        if row["channel"] == "sms":
            raise KeyError("sms_deadline_text")
        return render(self, row)

    monkeypatch.setattr(Renderer, "render", broken_sms)
    summary = write_batch(conn, STRATEGY, NIGHT, tmp / "blocked", write_pdfs=False)
    assert summary.failing_templates == ["sms/soft_notice.zh-CN"]
    assert summary.folder.name == f"{NIGHT}.blocked"
    assert summary.held_by_rule["render_error"] == 3


def _letter_html(**overrides) -> tuple[str, str]:
    row = contact("letter", "formal_demand", "zh-CN", "CN", **overrides)
    return row["letter_id"], Renderer(STRATEGY).render(row).parts["html"]


def test_an_absurd_letter_is_left_out_of_the_print_file(tmp_path):
    """Laid out for real: a letter over its page budget and one whose address overflows the
    envelope window are left out; the ordinary letter beside them prints."""
    ordinary = _letter_html(letter_id="260503-AAAAAAAAA1")
    window = _letter_html(letter_id="260503-AAAAAAAAA2", postal_address="朝阳区建国路88号" * 20)
    letter_id, html = _letter_html(letter_id="260503-AAAAAAAAA3")
    filler = "<p>" + "如需分期还款安排请在线提交申请。" * 40 + "</p>"
    long_letter = (letter_id, html.replace("</section>", filler * 12 + "</section>"))
    paper = pdf.print_config().papers["A4"]
    spans, pages, failed = pdf.render_pdf([ordinary, window, long_letter],
                                          tmp_path / "letters.pdf", paper, max_pages=2)
    assert spans == {"260503-AAAAAAAAA1": (1, 1)} and pages == 1
    assert failed["260503-AAAAAAAAA2"] == ("address_too_long",
                                           "the address block overflows the envelope window")
    rule, span = failed["260503-AAAAAAAAA3"]
    assert rule == "print_too_long" and span.endswith("over the letter's budget of 2 "
                                                      "(OVERDUE_LETTER_MAX_PAGES)")
    text = subprocess.run(["pdftotext", str(tmp_path / "letters.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "260503-AAAAAAAAA1" in text and "260503-AAAAAAAAA2" not in text
