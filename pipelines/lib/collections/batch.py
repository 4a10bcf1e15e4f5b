"""A night's letter batch: render and lint every planned contact, write the files, record status.

Output under `<out>/<night>/` (DOMAIN §5, issues 5 and 16):
- `manifest.csv` (every released letter: ids, template version, sha256, path), `held.csv`
  (each held contact with its rule), `summary.json` (counts only);
- `sms.jsonl`: one record per SMS as its gateway takes it (`gateways.py`: provider, sender,
  encoding, characters, segments, template code and parameters, the provider's `request`), and
  `sms_templates.json`: the registered text of every template code, to compare with the
  gateway's approved templates;
- `email/*.eml` (with `List-Unsubscribe` and RFC 8058 one-click `List-Unsubscribe-Post` only
  where the jurisdiction offers an opt-out by e-mail); `print/*.pdf` + `print/index.csv`;
- `work_list.csv` (UTF-8 with a BOM, so a spreadsheet reads Chinese names; phone numbers as RFC
  3966 `tel:+8613800138000` URIs, which a spreadsheet keeps as text and a dialler reads as the
  E.164 number) and `work_list.xlsx` (the same rows, phone and id cells typed as text, frozen
  header, filters). Both end in the disposition columns a collector fills in and the outcomes
  feed reads back (issue 19), empty when written:
  - `outcome`: no_answer, busy, voicemail, wrong_number, wrong_party, refused, promise_to_pay,
    dispute_raised, hardship_claimed, callback_requested, paid
  - `right_party_contact`: yes or no (spoke with the debtor)
  - `promise_amount`: the amount promised, in the row's currency, `.` decimals
  - `promise_date`: the date promised, YYYY-MM-DD
  - `note`: free text (never another person's details)
  - `outcome_time`: when the call was made, ISO 8601 with its UTC offset (empty: the night the
    file comes back), `offer_id`: the offer accepted or declined, `agent_id`: the collector
  Returned as `landing/work_list_outcomes/<YYYY-MM-DD>.csv` (or `.xlsx`), each filled row is an
  outcome of its contact (data_contracts/work_list_outcomes.odcs.yaml);
  Each queue's rows are in rank order (`queue_rank`, by `expected_value`: issue 17,
  sql/collections/plan_contacts.sql) and at most its capacity per jurisdiction;
- `queue_overflow.csv`: the tasks ranked beyond their queue's capacity tonight (status overflow,
  held_rule queue_full in contact_history), with rank, capacity, expected value and the amounts:
  what tonight's staff cannot reach. Ids and amounts only, no names or phone numbers.

One record never stops a batch: a contact whose rendering, e-mail address, MIME message, SMS,
print layout or work-list line fails is held with a rule (`render_error`, `invalid_email`,
`email_build_error`, `sms_encoding_error`, `pdf_layout_error`, `print_too_long`,
`address_too_long`, `work_list_error`) and the error's type and first line, never its personal
values; the other contacts go. E-mail addresses go out in ASCII: an internationalised domain is
IDNA-encoded (`nana@例子.中国` -> `nana@xn--fsqu00a.xn--fiqs8s`); an address typed in full-width
forms (`ｎａｎａ＠ｅｘａｍｐｌｅ．ｃｎ`) is NFKC-normalised when that gives a valid address, and
the manifest notes `email_nfkc` (what an IME in full-width mode produced; UTS #46 maps the same
forms in domain names anyway); a local part outside ASCII (it would need SMTPUTF8) is held as
`invalid_email`.

Released letters are immutable. Once a night's folder exists with a manifest, a rerun never
rewrites it: a letter rendering to the same bytes is not sent again; one whose content changed
(a corrected file re-landed) goes out as a new letter (`<letter id>.R2`, then `.R3`) with
`corrects_letter_id` naming the one it replaces, in a new folder `<night>.r2/` (`.r3/`...) beside
the released one, holding only the new and changed contacts; the replaced contact keeps its
status and gets `superseded_by`. A released letter the corrected plan no longer holds keeps its
status with `correction_note` no_longer_due (sql/collections/cancel_stale_contacts.sql).

The folder is written beside the final one and renamed into place, so a reader never sees half a
batch. When a template fails the linter for every contact it was rendered for, the batch is
blocked: it goes to `<night>.blocked/` instead and nothing is released. Every folder and file of
a batch is the owner's only (`OVERDUE_PERSONAL_FILE_MODE`, default 0600) from the moment the
staging folder exists; `purge_batches` removes the personal-data files of nights past retention.

Personal data appears only in these files, never in the returned summary (which is what reaches
logs and asset metadata).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import duckdb
import pyarrow as pa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.xml.constants import ARC_CORE
from openpyxl.xml.functions import tostring

from pipelines import settings
from pipelines.lib.collections.gateways import Gateways, SmsComposer, load_gateways
from pipelines.lib.collections.linter import Finding, Linter
from pipelines.lib.collections.mime import email_bytes
from pipelines.lib.collections.offers import add_letter_fields as add_offer_fields
from pipelines.lib.collections.pdf import render_print_batches
from pipelines.lib.collections.rendering import Rendered, Renderer
from pipelines.lib.collections.strategy import Strategy
from pipelines.lib.collections.tiering import register_strategy
from pipelines.lib.warehouse import run_sql, table_exists

MESSAGE_CHANNELS = ("sms", "email", "letter")
# Rules a template's own text breaks (as against the account's situation: caps, hours, recipient).
TEMPLATE_RULES = frozenset({"sms_length", "unmasked_account", "opt_out", "required_elements",
                            "itemization_arithmetic", "amounts_match", "dates_match",
                            "official_channels", "forbidden_phrase", "time_barred_litigation",
                            "sms_template", "render_error"})
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d[\d.]*$")


def neutralise_cell(value) -> str:
    """A CSV cell a spreadsheet cannot execute: text starting like a formula gets a leading '.

    Plain numbers (an E.164 phone number, an amount) are left as they are: they cannot run.
    """
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def write_csv(path: Path, columns: list[str], rows: list[dict], *, bom: bool = False) -> None:
    """`bom`: start with a UTF-8 byte order mark, without which Excel reads the file as ANSI."""
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([neutralise_cell(row.get(c)) for c in columns])


@dataclass
class BatchSummary:
    night: date
    folder: Path | None
    rendered: int = 0
    planned: int = 0
    held: int = 0
    held_by_rule: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    # rendered, held by a rule of the template's own text
    by_template: dict[str, tuple[int, int]] = field(default_factory=dict)
    failing_templates: list[str] = field(default_factory=list)
    print_files: list[Path] = field(default_factory=list)
    print_letters: int = 0
    print_seconds: float = 0.0
    render_seconds: float = 0.0
    # "<jurisdiction>/<queue>" -> capacity (None: unlimited), planned, held, overflow
    queues: dict[str, dict] = field(default_factory=dict)
    # a night already released: its letters rendering to the same bytes (not sent again), and
    # the changed ones going out as new letters referencing them
    unchanged: int = 0
    corrections: int = 0
    email_normalised: int = 0

    @property
    def blocked(self) -> bool:
        return bool(self.failing_templates)


def fetch_contacts(conn: duckdb.DuckDBPyConnection, strategy: Strategy, night: date) -> list[dict]:
    """The night's planned and held contacts with everything needed to render them."""
    register_strategy(conn, strategy, night=night)
    params = {"night": night, "payment_deadline_days": strategy.payment_deadline_days}
    cursor = run_sql(conn, "collections/contacts_to_render", params,
                     has_reasons=table_exists(conn, "account_reason_codes"))
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    add_offer_fields(conn, night, rows)
    return rows


def lint_contacts(strategy: Strategy, rows: list[dict]
                  ) -> list[tuple[dict, Rendered | None, Finding | None]]:
    renderer, linter = Renderer(strategy), Linter(strategy)
    return [(row, *render_and_lint(renderer, linter, row)) for row in rows]


def build_email(row: dict, rendered: Rendered, lender: dict, opt_out: dict | None) -> bytes:
    """The .eml of one contact; `row["email"]` is already the envelope (ASCII) address.

    Written by `mime.email_bytes`, the bytes `email.message.EmailMessage` wrote before
    (tooling/email_reference.py keeps that path; the test holds them equal)."""
    domain = _domain(lender["opt_out_url"])
    extra = []
    if opt_out is not None:
        # RFC 8058: a one-click POST to the https URL unsubscribes this recipient
        extra += [("List-Unsubscribe", f"<{unsubscribe_url(opt_out['url'], row['letter_id'])}>"),
                  ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")]
    extra.append(("X-Letter-Reference", row["letter_id"]))
    if row.get("corrects_letter_id"):
        extra.append(("X-Letter-Replaces", row["corrects_letter_id"]))
    # A fixed MIME boundary (Python's own is random): a rerun of the night writes the same bytes
    # (and sha256 in the manifest and contact_history) for the same letter. The id is unique.
    return email_bytes(
        sender=(lender["name"], f"no-reply@{domain}"), recipient=(row["full_name"] or "",
                                                                  row["email"]),
        subject=rendered.subject or "", date=row["scheduled_at"],
        message_id=f"<{row['letter_id']}@{domain}>", extra=extra,
        text=rendered.parts["txt"], html=rendered.parts["html"],
        boundary=f"==overdue-{row['letter_id']}==")


def unsubscribe_url(url: str, letter_id: str) -> str:
    """The opt-out URL with the letter's reference, which tells the lender who unsubscribes."""
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query), ("ref", letter_id)])
    return urlunsplit(parts._replace(query=query))


def _domain(url: str) -> str:
    return url.split("//", 1)[-1].split("/", 1)[0].removeprefix("www.")


MANIFEST = ["letter_id", "account_id", "customer_id", "channel", "template", "template_version",
            "locale", "sha256", "path", "scheduled_at", "corrects_letter_id", "note"]
WORK_LIST = ["contact_id", "queue", "priority", "queue_rank", "expected_value", "tier", "treatment", "account_id", "customer_id",
             "full_name", "mobile_phone", "account_last4", "currency", "days_past_due",
             "past_due_amount", "balance", "risk_grade", "reason_codes_zh", "reason_codes_en",
             "call_date", "call_window", "timezone", "max_calls", "jurisdiction"]
# filled in by the collector, read back by the outcomes feed (the module docstring)
DISPOSITION = {
    "outcome": ("no_answer", "busy", "voicemail", "wrong_number", "wrong_party", "refused",
                "promise_to_pay", "dispute_raised", "hardship_claimed", "callback_requested",
                "paid", "right_party_contact", "offer_accepted", "offer_declined", "complaint"),
    "right_party_contact": ("yes", "no"),
    "promise_amount": None, "promise_date": None, "note": None,
    # issue 19: read back through landing/work_list_outcomes/ (data_contracts/work_list_outcomes)
    "outcome_time": None, "offer_id": None, "agent_id": None,
}
WORK_LIST_COLUMNS = WORK_LIST + list(DISPOSITION)
# cells a spreadsheet must keep as typed: an E.164 number or a zero-led id is not a number
TEXT_COLUMNS = frozenset({"contact_id", "account_id", "customer_id", "mobile_phone",
                          "account_last4", "call_date", "promise_date", "outcome_time",
                          "offer_id", "agent_id"})
MONEY_COLUMNS = frozenset({"past_due_amount", "balance", "promise_amount"})
# a text cell starting so would turn into a number (or a date) when edited in Excel
KEEP_AS_TEXT = frozenset("+-0123456789")
XLSX_MAX_ROWS = 1_048_575  # Excel's rows per sheet, less the header
# the tasks beyond their queue's capacity: ids and amounts, no personal data
OVERFLOW = ["contact_id", "jurisdiction", "queue", "queue_rank", "queue_capacity", "expected_value",
            "account_id", "customer_id", "tier", "treatment", "channel", "currency", "bucket",
            "days_past_due", "past_due_amount", "probability", "risk_grade"]
HELD = ["contact_id", "letter_id", "account_id", "customer_id", "channel", "template",
        "template_version", "locale", "jurisdiction", "rule", "span", "corrects_letter_id"]
PRINT_INDEX = ["file", "first_page", "pages", "letter_id", "account_id", "customer_id", "locale",
               "full_name", "postal_address", "city", "region", "postal_code"]
# the files of a batch that hold personal data: removed once the night is past retention
PERSONAL_PATHS = ("print", "email", "sms.jsonl", "work_list.csv", "work_list.xlsx")


def tel_uri(phone: str | None) -> str | None:
    """An E.164 number as an RFC 3966 URI: text to a spreadsheet (a bare +86... becomes a
    number), the number itself to a dialler or libphonenumber."""
    return f"tel:{phone}" if phone else phone


def write_work_list_xlsx(path: Path, rows: list[dict], night: date) -> None:
    """The work list as a spreadsheet for supervisors, written by openpyxl (streaming: a night
    can hold hundreds of thousands of calls): phone and id cells typed as text, a frozen
    header, filters, the disposition columns with their allowed values as drop-down lists.
    Above Excel's 1,048,576 rows a sheet goes on in work_list_2, work_list_3...
    Dated the night, inside and in the zip, so a rerun of the night writes the same bytes."""
    book = Workbook(write_only=True)
    moment = datetime(night.year, night.month, night.day)
    book.properties.creator = "overdue"
    book.properties.created = book.properties.modified = moment
    chunks = [rows[i:i + XLSX_MAX_ROWS] for i in range(0, len(rows), XLSX_MAX_ROWS)] or [[]]
    for number, chunk in enumerate(chunks, 1):
        sheet = book.create_sheet("work_list" if number == 1 else f"work_list_{number}")
        _work_sheet(sheet, chunk)
    written = io.BytesIO()
    book.save(written)
    book.properties.modified = moment  # openpyxl's save stamps the time it ran
    with zipfile.ZipFile(written) as source, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=moment.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            data = (tostring(book.properties.to_tree()) if info.filename == ARC_CORE
                    else source.read(info.filename))
            target.writestr(entry, data)


def _work_sheet(sheet, rows: list[dict]) -> None:
    last = max(len(rows) + 1, 2)
    columns = len(WORK_LIST_COLUMNS)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(columns)}{last}"
    for name, allowed in DISPOSITION.items():
        if allowed is None:
            continue
        column = get_column_letter(WORK_LIST_COLUMNS.index(name) + 1)
        check = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"',
                               allow_blank=True, showErrorMessage=True,
                               errorTitle=name, error=f"one of: {', '.join(allowed)}")
        check.add(f"{column}2:{column}{last}")
        sheet.data_validations.append(check)
    widths = [len(name) for name in WORK_LIST_COLUMNS]
    for row in rows[:1000]:
        for index, name in enumerate(WORK_LIST_COLUMNS):
            value = row.get(name)
            if value is not None:
                shown = str(value)
                widths[index] = max(widths[index],
                                    sum(2 if ord(c) > 0x2E7F else 1 for c in shown))
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, 60)
    bold = Font(bold=True)
    header = []
    for name in WORK_LIST_COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    kinds = [("text" if name in TEXT_COLUMNS else "money" if name in MONEY_COLUMNS else "")
             for name in WORK_LIST_COLUMNS]
    for row in rows:
        values = []
        for name, kind in zip(WORK_LIST_COLUMNS, kinds, strict=True):
            value = row.get(name)
            if value is None or kind == "money" or (
                    isinstance(value, int | float | Decimal) and not isinstance(value, bool)
                    and kind != "text"):
                values.append(value)
                continue
            text = str(value)
            if kind == "text" and text[:1] in KEEP_AS_TEXT:
                # a string cell, kept as text when edited ("@"): Excel would make +86... a number
                cell = WriteOnlyCell(sheet, value=text)
                cell.data_type = "s"
                cell.number_format = "@"
                values.append(cell)
            elif text.startswith("="):  # openpyxl would write a formula
                cell = WriteOnlyCell(sheet, value=text)
                cell.data_type = "s"
                values.append(cell)
            else:
                values.append(text)
        sheet.append(values)


def restrict(root: Path, mode: int | None = None) -> None:
    """Every folder and file under `root` (and root itself) readable by the owner only."""
    mode = settings.personal_file_mode() if mode is None else mode
    folder_mode = mode | ((mode & 0o444) >> 2)  # search wherever read is granted
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, folder_mode)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), mode)


def write_batch(conn: duckdb.DuckDBPyConnection, strategy: Strategy, night: date, out: Path,
                *, write_pdfs: bool = True, gateways: Gateways | None = None) -> BatchSummary:
    """Render, lint and write the night's batch; record each contact's status and sha256. On a
    night already released, only new and changed contacts go, into `<night>.r<N>/`."""
    import time

    started = time.perf_counter()
    composer = SmsComposer(strategy, gateways or load_gateways())
    released = released_folders(out, night)
    rows = fetch_contacts(conn, strategy, night)
    tasks = queue_tasks(conn, night)
    ranks = {t["contact_id"]: t for t in tasks}
    renderer, linter = Renderer(strategy), Linter(strategy)
    summary = BatchSummary(night, None)
    results, corrections = [], []
    pending = {r["contact_id"] for r in rows}
    for row in rows:
        rendered, finding = render_and_lint(renderer, linter, row)
        if released and row["batch_written"]:
            if row["channel"] not in MESSAGE_CHANNELS:
                continue  # already on a released work list
            if not finding and _content_hash(composer, strategy, row, rendered) \
                    == row["content_sha256"]:
                summary.unchanged += 1
                continue
            correction = correction_of(row)
            if correction["contact_id"] in pending:
                continue  # an earlier correction not released yet: it is in the rows itself
            pending.add(correction["contact_id"])
            corrections.append(correction)
            row = correction
            rendered, finding = render_and_lint(renderer, linter, row)
        results.append((row, rendered, finding))
    summary.render_seconds = time.perf_counter() - started
    out.mkdir(parents=True, exist_ok=True)
    staging = out / f".{night}.staging"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(mode=0o700)
    (staging / "email").mkdir(mode=0o700)
    (staging / "print").mkdir(mode=0o700)

    manifest, sms, work, held, letters = [], [], [], [], []
    updates: dict[str, dict] = {}
    per_template: dict[str, list[int]] = {}

    def hold(row: dict, finding: Finding) -> None:
        held.append(row | {"rule": finding.rule, "span": finding.span})
        updates[row["contact_id"]] = {
            "contact_id": row["contact_id"], "status": "held", "held_rule": finding.rule,
            "held_span": finding.span, "content_sha256": None,
            "corrects_letter_id": row["corrects_letter_id"]}

    for row, rendered, finding in results:
        channel = row["channel"]
        key = f"{channel}/{row['template'] or row['queue']}.{row['locale']}"
        counts = per_template.setdefault(key, [0, 0])
        counts[0] += 1
        if finding:
            counts[1] += finding.rule in TEMPLATE_RULES
            hold(row, finding)
            continue
        content_hash = None
        if channel in MESSAGE_CHANNELS:
            try:
                entry = _message(composer, strategy, row, rendered)
            except HeldContact as problem:
                hold(row, problem.finding)
                continue
            except Exception as error:  # noqa: BLE001 - one record never stops a batch
                hold(row, Finding(CHANNEL_ERROR_RULES[channel], error_span(error, row)))
                continue
            content, message, note = entry
            if channel == "sms":
                sms.append(message)
                path = f"sms.jsonl#{len(sms)}"
            elif channel == "email":
                path = f"email/{row['letter_id']}.eml"
                (staging / path).write_bytes(content)
            else:
                letters.append((row, rendered.parts["html"]))
                path = "print/"  # completed once the print files are cut
            content_hash = hashlib.sha256(content).hexdigest()
            manifest.append({**row, "sha256": content_hash, "path": path, "note": note,
                             "scheduled_at": row["scheduled_at"].isoformat()})
        else:
            try:
                work.append(work_row(strategy, row, ranks.get(row["contact_id"], {}), night))
            except Exception as error:  # noqa: BLE001 - one record never stops a batch
                hold(row, Finding("work_list_error", error_span(error, row)))
                continue
        updates[row["contact_id"]] = {
            "contact_id": row["contact_id"], "status": "planned", "held_rule": None,
            "held_span": None, "content_sha256": content_hash,
            "corrects_letter_id": row["corrects_letter_id"]}

    if write_pdfs and letters:
        pdf_started = time.perf_counter()
        failed: dict[str, tuple[str, str]] = {}
        printable = []
        for row, html in letters:
            if _address_characters(row) > ADDRESS_MAX_CHARACTERS:
                failed[row["letter_id"]] = ("address_too_long", (
                    f"the address fields hold {_address_characters(row):,} characters; the "
                    f"envelope window takes far fewer than {ADDRESS_MAX_CHARACTERS}"))
            else:
                printable.append((row, html))
        index = render_print_batches(printable, staging / "print", failed=failed) \
            if printable else []
        summary.print_seconds = time.perf_counter() - pdf_started
        by_letter = {row["letter_id"]: row for row, _ in letters}
        for letter_id, (rule, span) in failed.items():
            row = by_letter[letter_id]
            hold(row, Finding(rule, redact(span, row)))
        manifest = [m for m in manifest if m["letter_id"] not in failed]
        pages = {entry["letter_id"]: entry for entry in index}
        for item in manifest:
            if item["channel"] == "letter":
                entry = pages[item["letter_id"]]
                item["path"] = f"print/{entry['file']}#page={entry['first_page']}"
        write_csv(staging / "print" / "index.csv", PRINT_INDEX, index)
        summary.print_files = sorted({staging / "print" / e["file"] for e in index})
        summary.print_letters = len(index)

    summary.by_template = {k: (v[0], v[1]) for k, v in sorted(per_template.items())}
    summary.failing_templates = [k for k, (n, h) in summary.by_template.items() if n and n == h]
    summary.rendered = len(results)
    summary.held = len(held)
    summary.planned = len(results) - len(held)
    summary.corrections = sum(1 for m in manifest if m["corrects_letter_id"])
    summary.email_normalised = sum(1 for m in manifest if m["note"] == "email_nfkc")
    summary.held_by_rule = dict(Counter(h["rule"] for h in held).most_common())
    held_ids = {h["contact_id"] for h in held}
    summary.by_channel = dict(Counter(r["channel"] for r, _, _ in results
                                      if r["contact_id"] not in held_ids))

    write_csv(staging / "manifest.csv", MANIFEST, manifest)
    with (staging / "sms.jsonl").open("w", encoding="utf-8") as handle:
        for message in sms:
            handle.write(json.dumps(message, ensure_ascii=False) + "\n")
    (staging / "sms_templates.json").write_text(
        json.dumps(composer.registry(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    work.sort(key=lambda r: (r["queue"], r["jurisdiction"] or "", r["queue_rank"] is None,
                             r["queue_rank"] or 0, r["account_id"]))
    summary.queues = queue_counts(tasks, held_ids)
    write_csv(staging / "queue_overflow.csv", OVERFLOW,
              [t for t in tasks if t["status"] == "overflow"])
    write_csv(staging / "work_list.csv", WORK_LIST_COLUMNS,
              [r | {"mobile_phone": tel_uri(r["mobile_phone"])} for r in work], bom=True)
    write_work_list_xlsx(staging / "work_list.xlsx", work, night)
    write_csv(staging / "held.csv", HELD, held)
    (staging / "summary.json").write_text(json.dumps(summary_counts(summary), indent=2,
                                                     ensure_ascii=False), encoding="utf-8")
    restrict(staging)

    newly_held = any(h["status"] != "held" or h["corrects_letter_id"] for h in held)
    if released and not manifest and not work and not newly_held:
        shutil.rmtree(staging)  # nothing new or changed: the released batch stands
        summary.folder = out / released[-1]
    else:
        name = str(night) if not released else f"{night}.r{_revision(released[-1]) + 1}"
        final = out / (f"{name}.blocked" if summary.blocked else name)
        for old in (out / name, out / f"{name}.blocked"):  # never released: N is past them
            if old.exists():
                shutil.rmtree(old)
        staging.rename(final)
        summary.folder = final
    summary.print_files = [summary.folder / "print" / p.name for p in summary.print_files]
    if corrections:
        insert_corrections(conn, night, corrections)
    record_statuses(conn, night, list(updates.values()), written=not summary.blocked,
                    folder=summary.folder.name)
    return summary


class HeldContact(Exception):
    """A contact that cannot go out as it is, with its rule."""

    def __init__(self, rule: str, span: str):
        super().__init__(rule)
        self.finding = Finding(rule, span)


# the rule a contact is held with when its channel's step raises
CHANNEL_ERROR_RULES = {"sms": "sms_encoding_error", "email": "email_build_error",
                       "letter": "render_error"}
# personal fields: never in a held span or an error text
PERSONAL_FIELDS = ("full_name", "postal_address", "city", "region", "postal_code",
                   "mobile_phone", "email")
ADDRESS_FIELDS = ("full_name", "postal_address", "city", "region", "postal_code")
# far beyond what the envelope window holds (about 8 lines of 25 characters): held before layout
ADDRESS_MAX_CHARACTERS = 400


def _address_characters(row: dict) -> int:
    return sum(len(row.get(name) or "") for name in ADDRESS_FIELDS)


def redact(text: str, row: dict) -> str:
    """`text` with every personal value of the row (as it is and as Python escapes it) removed,
    cut to its first line and 200 characters."""
    text = (text.strip().splitlines() or [""])[0]
    for name in PERSONAL_FIELDS:
        value = row.get(name)
        if value and len(str(value)) >= 3:
            for form in (str(value), repr(str(value))[1:-1]):
                text = text.replace(form, f"<{name}>")
    return text[:200]


def error_span(error: BaseException, row: dict) -> str:
    """The error's type and first line, without the contact's personal data."""
    detail = redact(str(error), row)
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


def render_and_lint(renderer: Renderer, linter: Linter, row: dict
                    ) -> tuple[Rendered | None, Finding | None]:
    try:
        rendered = renderer.render(row) if row["channel"] in MESSAGE_CHANNELS else None
    except Exception as error:  # noqa: BLE001 - one record never stops a batch
        return None, Finding("render_error", error_span(error, row))
    try:
        return rendered, linter.lint(row, rendered)
    except Exception as error:  # noqa: BLE001 - one record never stops a batch
        return rendered, Finding("lint_error", error_span(error, row))


def _message(composer: SmsComposer, strategy: Strategy, row: dict, rendered: Rendered
             ) -> tuple[bytes, dict | None, str | None]:
    """A message's bytes as released, its sms.jsonl record, and a note on how it was made."""
    channel = row["channel"]
    if channel == "sms":
        message, problem = composer.compose(row, rendered.parts["txt"])
        if problem:
            raise HeldContact(*problem)
        return message["text"].encode("utf-8"), message, None
    if channel == "email":
        try:
            address, normalised = envelope_address(row["email"])
        except InvalidEmail as error:
            raise HeldContact("invalid_email", str(error)) from None
        rules = strategy.jurisdiction(row["jurisdiction"])
        content = build_email(row | {"email": address}, rendered,
                              rules.lender_for(row["locale"]), rules.opt_out("email", row["locale"]))
        return content, None, "email_nfkc" if normalised else None
    return rendered.parts["html"].encode("utf-8"), None, None


def _content_hash(composer: SmsComposer, strategy: Strategy, row: dict, rendered: Rendered
                  ) -> str | None:
    """The sha256 the row's message would be released with tonight, None when it cannot be."""
    try:
        return hashlib.sha256(_message(composer, strategy, row, rendered)[0]).hexdigest()
    except Exception:  # noqa: BLE001 - it goes out as a correction, held there if it fails
        return None


def work_row(strategy: Strategy, row: dict, task: dict, night: date) -> dict:
    """A task's work-list line."""
    rules = strategy.jurisdiction(row["jurisdiction"])
    local_day = (row["scheduled_at"] and row["scheduled_at"].date()) or night
    remaining = None
    if row["channel"] == "phone":
        if rules.calls.get("max_calls_per_7_days") is not None:
            remaining = rules.calls["max_calls_per_7_days"] - (row["cap_count"] or 0)
        else:
            remaining = rules.calls.get("max_attempts_per_number_per_day")
    return row | {
        "queue_rank": task.get("queue_rank"), "expected_value": task.get("expected_value"),
        "call_date": local_day.isoformat(),
        "call_window": f"{rules.allowed_start}-{rules.allowed_end}",
        "max_calls": remaining}


class InvalidEmail(ValueError):
    """An e-mail address no gateway can send to; the message never repeats the address."""


# RFC 5322 dot-atom of ASCII atext: what a local part can be without SMTPUTF8
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


def envelope_address(raw: str | None) -> tuple[str, bool]:
    """The address as the envelope and the To header carry it (domain IDNA-encoded), and
    whether NFKC normalisation (full-width forms) was needed to make it valid."""
    import idna

    text = (raw or "").strip()
    if not text:
        raise InvalidEmail("no e-mail address")
    normal = unicodedata.normalize("NFKC", text)
    local, at, domain = normal.rpartition("@")
    if not at or not local or not domain:
        raise InvalidEmail("not local-part@domain")
    if len(local) > 64 or not _LOCAL_PART.match(local):
        raise InvalidEmail("the local part is not ASCII (it would need SMTPUTF8) or not a "
                           "dot-atom")
    try:
        ascii_domain = idna.encode(domain.removesuffix("."), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as error:
        raise InvalidEmail(f"the domain is not a valid IDNA name ({type(error).__name__})"
                           ) from None
    if "." not in ascii_domain or len(ascii_domain) > 253:
        raise InvalidEmail("the domain is not a fully qualified name")
    return f"{local}@{ascii_domain}", normal != text


_REVISION = re.compile(r"\.R(\d+)$")


def correction_of(row: dict) -> dict:
    """The contact that replaces the released `row`: letter `<id>.R<n+1>` (the first correction
    of a letter is .R2), idempotency key `<key>|r<n+1>`, referencing the letter it corrects."""
    found = _REVISION.search(row["letter_id"])
    number = int(found.group(1)) + 1 if found else 2
    base = _REVISION.sub("", row["letter_id"])
    key = row["idempotency_key"].split("|", 1)[0]
    letter_id = f"{base}.R{number}"
    return row | {"contact_id": letter_id, "letter_id": letter_id,
                  "idempotency_key": f"{key}|r{number}", "corrects_letter_id": row["letter_id"],
                  "status": "planned", "batch_written": False, "content_sha256": None}


def released_folders(out: Path, night: date) -> list[str]:
    """The night's released batch folders (`<night>`, `<night>.r2`...) in order: those with a
    manifest, which a rerun never rewrites."""
    found = []
    for folder in out.glob(f"{night}*") if out.is_dir() else []:
        match = _BATCH_FOLDER.match(folder.name)
        if match and not match.group(3) and (folder / "manifest.csv").is_file():
            found.append(folder.name)
    return sorted(found, key=_revision)


def _revision(name: str) -> int:
    match = _BATCH_FOLDER.match(name)
    return int(match.group(2)) if match and match.group(2) else 1


def insert_corrections(conn: duckdb.DuckDBPyConnection, night: date, rows: list[dict]) -> None:
    table = pa.Table.from_pylist(
        [{name: row[name] for name in ("contact_id", "idempotency_key", "corrects_letter_id")}
         for row in rows],
        schema=pa.schema([("contact_id", pa.string()), ("idempotency_key", pa.string()),
                          ("corrects_letter_id", pa.string())]))
    conn.register("correction_contacts", table)
    run_sql(conn, "collections/insert_correction_contacts", {"night": night})
    conn.unregister("correction_contacts")


def queue_tasks(conn: duckdb.DuckDBPyConnection, night: date) -> list[dict]:
    """The night's tasks with their queue rank (sql/collections/queue_tasks.sql)."""
    cursor = run_sql(conn, "collections/queue_tasks", {"night": night})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def queue_counts(tasks: list[dict], held: set[str]) -> dict[str, dict]:
    """Per jurisdiction and queue: its capacity and the tasks on the work list, held by the
    linter and overflowed, so a manager sees the queue's load against its staff."""
    counts: dict[str, dict] = {}
    for task in tasks:
        entry = counts.setdefault(f"{task['jurisdiction']}/{task['queue']}", {
            "capacity": task["queue_capacity"], "work_list": 0, "held": 0, "overflow": 0})
        if task["status"] == "overflow":
            entry["overflow"] += 1
        elif task["contact_id"] in held:
            entry["held"] += 1
        else:
            entry["work_list"] += 1
    return dict(sorted(counts.items()))


# <night>, a correction <night>.r<N>, either .blocked
_BATCH_FOLDER = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.r(\d+))?(\.blocked)?$")


def purge_batches(out: Path, before: date, *, now: datetime | None = None) -> list[dict]:
    """Remove the personal-data files (PERSONAL_PATHS) of every batch of a night before
    `before`; manifest.csv, held.csv, queue_overflow.csv, summary.json and sms_templates.json
    stay. Each purged
    folder gets purged.json: the files removed with their sha256 and size, and when. Contact
    records in the warehouse are not touched (they hold no personal data)."""
    now = now or datetime.now(UTC)
    purged = []
    folders = sorted(p for p in out.iterdir() if p.is_dir()) if out.is_dir() else []
    for folder in folders:
        match = _BATCH_FOLDER.match(folder.name)
        if not match or date.fromisoformat(match.group(1)) >= before:
            continue
        removed = []
        for name in PERSONAL_PATHS:
            target = folder / name
            files = sorted(f for f in target.rglob("*") if f.is_file()) if target.is_dir() \
                else [target] if target.is_file() else []
            for path in files:
                removed.append({"path": path.relative_to(folder).as_posix(),
                                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                                "bytes": path.stat().st_size})
            if target.is_dir():
                shutil.rmtree(target)
            elif target.is_file():
                target.unlink()
        if not removed:
            continue
        record = folder / "purged.json"
        earlier = json.loads(record.read_text(encoding="utf-8")) if record.exists() else {}
        entry = {"night": match.group(1), "before": before.isoformat(),
                 "purged_at": now.isoformat(timespec="seconds"),
                 "files": earlier.get("files", []) + removed}
        record.write_text(json.dumps(entry, indent=2) + "\n", encoding="utf-8")
        os.chmod(record, settings.personal_file_mode())
        purged.append({"folder": folder.name, "files": len(removed),
                       "bytes": sum(f["bytes"] for f in removed)})
    return purged


def record_statuses(conn: duckdb.DuckDBPyConnection, night: date, updates: list[dict],
                    *, written: bool, folder: str | None = None) -> None:
    """Each contact's verdict; a released correction marks the letter it replaces."""
    if not updates:
        return
    table = pa.Table.from_pylist(updates, schema=pa.schema([
        ("contact_id", pa.string()), ("status", pa.string()), ("held_rule", pa.string()),
        ("held_span", pa.string()), ("content_sha256", pa.string()),
        ("corrects_letter_id", pa.string())]))
    conn.register("linted_contacts", table)
    params = {"night": night, "written": written}
    run_sql(conn, "collections/update_contact_status", params | {"folder": folder})
    run_sql(conn, "collections/supersede_corrected_letters", params)
    conn.unregister("linted_contacts")


def summary_counts(summary: BatchSummary) -> dict:
    """The batch in counts only: safe for logs and metadata."""
    return {
        "night": summary.night.isoformat(),
        "contacts": summary.rendered,
        "released": summary.planned if not summary.blocked else 0,
        "held": summary.held,
        "held_by_rule": summary.held_by_rule,
        "by_channel": summary.by_channel,
        "templates": {k: {"rendered": n, "held_by_template_rules": h}
                      for k, (n, h) in summary.by_template.items()},
        "failing_templates": summary.failing_templates,
        "blocked": summary.blocked,
        "print_letters": summary.print_letters,
        "print_files": len(summary.print_files),
        "queues": summary.queues,
        "unchanged_released": summary.unchanged,
        "corrections": summary.corrections,
        "email_normalised": summary.email_normalised,
    }
