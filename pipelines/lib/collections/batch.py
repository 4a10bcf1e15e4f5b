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
  Each queue's rows are in rank order (`queue_rank`, by `expected_value`: issue 17,
  sql/collections/plan_contacts.sql) and at most its capacity per jurisdiction;
- `queue_overflow.csv`: the tasks ranked beyond their queue's capacity tonight (status overflow,
  held_rule queue_full in contact_history), with rank, capacity, expected value and the amounts:
  what tonight's staff cannot reach. Ids and amounts only, no names or phone numbers.

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
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
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
                            "sms_template"})
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
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def lint_contacts(strategy: Strategy, rows: list[dict]
                  ) -> list[tuple[dict, Rendered | None, Finding | None]]:
    renderer, linter = Renderer(strategy), Linter(strategy)
    results = []
    for row in rows:
        rendered = renderer.render(row) if row["channel"] in MESSAGE_CHANNELS else None
        results.append((row, rendered, linter.lint(row, rendered)))
    return results


def _eml(row: dict, rendered: Rendered, lender: dict, opt_out: dict | None) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((lender["name"], f"no-reply@{_domain(lender['opt_out_url'])}"))
    message["To"] = formataddr((row["full_name"] or "", row["email"]))
    message["Subject"] = rendered.subject or ""
    message["Date"] = format_datetime(row["scheduled_at"])
    message["Message-ID"] = f"<{row['letter_id']}@{_domain(lender['opt_out_url'])}>"
    if opt_out is not None:
        # RFC 8058: a one-click POST to the https URL unsubscribes this recipient
        message["List-Unsubscribe"] = f"<{unsubscribe_url(opt_out['url'], row['letter_id'])}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["X-Letter-Reference"] = row["letter_id"]
    message.set_content(rendered.parts["txt"])
    message.add_alternative(rendered.parts["html"], subtype="html")
    # Python draws a random MIME boundary: a rerun of the night would write different bytes (and
    # sha256 in the manifest and contact_history) for the same letter. The letter id is unique.
    message.set_boundary(f"==overdue-{row['letter_id']}==")
    return message.as_bytes()


def unsubscribe_url(url: str, letter_id: str) -> str:
    """The opt-out URL with the letter's reference, which tells the lender who unsubscribes."""
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query), ("ref", letter_id)])
    return urlunsplit(parts._replace(query=query))


def _domain(url: str) -> str:
    return url.split("//", 1)[-1].split("/", 1)[0].removeprefix("www.")


MANIFEST = ["letter_id", "account_id", "customer_id", "channel", "template", "template_version",
            "locale", "sha256", "path", "scheduled_at"]
WORK_LIST = ["contact_id", "queue", "priority", "queue_rank", "expected_value", "tier", "treatment", "account_id", "customer_id",
             "full_name", "mobile_phone", "account_last4", "currency", "days_past_due",
             "past_due_amount", "balance", "risk_grade", "reason_codes_zh", "reason_codes_en",
             "call_date", "call_window", "timezone", "max_calls", "jurisdiction"]
# filled in by the collector, read back by the outcomes feed (the module docstring)
DISPOSITION = {
    "outcome": ("no_answer", "busy", "voicemail", "wrong_number", "wrong_party", "refused",
                "promise_to_pay", "dispute_raised", "hardship_claimed", "callback_requested",
                "paid"),
    "right_party_contact": ("yes", "no"),
    "promise_amount": None, "promise_date": None, "note": None,
}
WORK_LIST_COLUMNS = WORK_LIST + list(DISPOSITION)
# cells a spreadsheet must keep as typed: an E.164 number or a zero-led id is not a number
TEXT_COLUMNS = frozenset({"contact_id", "account_id", "customer_id", "mobile_phone",
                          "account_last4", "call_date", "promise_date"})
MONEY_COLUMNS = frozenset({"past_due_amount", "balance", "promise_amount"})
# a text cell starting so would turn into a number (or a date) when edited in Excel
KEEP_AS_TEXT = frozenset("+-0123456789")
XLSX_MAX_ROWS = 1_048_575  # Excel's rows per sheet, less the header
# the tasks beyond their queue's capacity: ids and amounts, no personal data
OVERFLOW = ["contact_id", "jurisdiction", "queue", "queue_rank", "queue_capacity", "expected_value",
            "account_id", "customer_id", "tier", "treatment", "channel", "currency", "bucket",
            "days_past_due", "past_due_amount", "probability", "risk_grade"]
HELD = ["contact_id", "letter_id", "account_id", "customer_id", "channel", "template",
        "template_version", "locale", "jurisdiction", "rule", "span"]
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
    """Render, lint and write the night's batch; record each contact's status and sha256."""
    import time

    started = time.perf_counter()
    composer = SmsComposer(strategy, gateways or load_gateways())
    rows = fetch_contacts(conn, strategy, night)
    tasks = queue_tasks(conn, night)
    ranks = {t["contact_id"]: t for t in tasks}
    results = lint_contacts(strategy, rows)
    summary = BatchSummary(night, None)
    summary.render_seconds = time.perf_counter() - started
    out.mkdir(parents=True, exist_ok=True)
    staging = out / f".{night}.staging"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(mode=0o700)
    (staging / "email").mkdir(mode=0o700)
    (staging / "print").mkdir(mode=0o700)

    manifest, sms, work, held, letters, updates = [], [], [], [], [], []
    per_template: dict[str, list[int]] = {}
    for row, rendered, finding in results:
        channel = row["channel"]
        key = f"{channel}/{row['template'] or row['queue']}.{row['locale']}"
        counts = per_template.setdefault(key, [0, 0])
        counts[0] += 1
        message = None
        if not finding and channel == "sms":
            message, problem = composer.compose(row, rendered.parts["txt"])
            finding = Finding(*problem) if problem else None
        content_hash = None
        if finding:
            counts[1] += finding.rule in TEMPLATE_RULES
            held.append(row | {"rule": finding.rule, "span": finding.span})
            updates.append({"contact_id": row["contact_id"], "status": "held",
                            "held_rule": finding.rule, "held_span": finding.span,
                            "content_sha256": None})
            continue
        if channel in MESSAGE_CHANNELS:
            rules = strategy.jurisdiction(row["jurisdiction"])
            lender = rules.lender_for(row["locale"])
            if channel == "sms":
                content = message["text"].encode("utf-8")
                sms.append(message)
                path = f"sms.jsonl#{len(sms)}"
            elif channel == "email":
                content = _eml(row, rendered, lender, rules.opt_out("email", row["locale"]))
                path = f"email/{row['letter_id']}.eml"
                (staging / path).write_bytes(content)
            else:
                content = rendered.parts["html"].encode("utf-8")
                letters.append((row, rendered.parts["html"]))
                path = "print/"  # completed once the print files are cut
            content_hash = hashlib.sha256(content).hexdigest()
            manifest.append({**row, "sha256": content_hash, "path": path,
                             "scheduled_at": row["scheduled_at"].isoformat()})
        else:
            rules = strategy.jurisdiction(row["jurisdiction"])
            local_day = (row["scheduled_at"] and row["scheduled_at"].date()) or night
            remaining = None
            if row["channel"] == "phone":
                if rules.calls.get("max_calls_per_7_days") is not None:
                    remaining = rules.calls["max_calls_per_7_days"] - (row["cap_count"] or 0)
                else:
                    remaining = rules.calls.get("max_attempts_per_number_per_day")
            task = ranks.get(row["contact_id"], {})
            work.append(row | {
                "queue_rank": task.get("queue_rank"), "expected_value": task.get("expected_value"),
                "call_date": local_day.isoformat(),
                "call_window": f"{rules.allowed_start}-{rules.allowed_end}",
                "max_calls": remaining})
        updates.append({"contact_id": row["contact_id"], "status": "planned", "held_rule": None,
                        "held_span": None, "content_sha256": content_hash})

    summary.by_template = {k: (v[0], v[1]) for k, v in sorted(per_template.items())}
    summary.failing_templates = [k for k, (n, h) in summary.by_template.items() if n and n == h]
    summary.rendered = len(results)
    summary.held = len(held)
    summary.planned = len(results) - len(held)
    summary.held_by_rule = dict(Counter(h["rule"] for h in held).most_common())
    held_ids = {h["contact_id"] for h in held}
    summary.by_channel = dict(Counter(r["channel"] for r in rows
                                      if r["contact_id"] not in held_ids))

    if write_pdfs and letters:
        pdf_started = time.perf_counter()
        index = render_print_batches(letters, staging / "print")
        summary.print_seconds = time.perf_counter() - pdf_started
        pages = {entry["letter_id"]: entry for entry in index}
        for item in manifest:
            if item["channel"] == "letter":
                entry = pages[item["letter_id"]]
                item["path"] = f"print/{entry['file']}#page={entry['first_page']}"
        write_csv(staging / "print" / "index.csv", PRINT_INDEX, index)
        summary.print_files = sorted({staging / "print" / e["file"] for e in index})
        summary.print_letters = len(letters)

    write_csv(staging / "manifest.csv", MANIFEST, manifest)
    with (staging / "sms.jsonl").open("w", encoding="utf-8") as handle:
        for message in sms:
            handle.write(json.dumps(message, ensure_ascii=False) + "\n")
    (staging / "sms_templates.json").write_text(
        json.dumps(composer.registry(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    work.sort(key=lambda r: (r["queue"], r["jurisdiction"] or "", r["queue_rank"] is None,
                             r["queue_rank"] or 0, r["account_id"]))
    held_tasks = {h["contact_id"] for h in held}
    summary.queues = queue_counts(tasks, held_tasks)
    write_csv(staging / "queue_overflow.csv", OVERFLOW,
              [t for t in tasks if t["status"] == "overflow"])
    write_csv(staging / "work_list.csv", WORK_LIST_COLUMNS,
              [r | {"mobile_phone": tel_uri(r["mobile_phone"])} for r in work], bom=True)
    write_work_list_xlsx(staging / "work_list.xlsx", work, night)
    write_csv(staging / "held.csv", HELD, held)
    (staging / "summary.json").write_text(json.dumps(summary_counts(summary), indent=2,
                                                     ensure_ascii=False), encoding="utf-8")
    restrict(staging)

    final = out / (f"{night}.blocked" if summary.blocked else str(night))
    for old in (out / str(night), out / f"{night}.blocked"):
        if old.exists():
            shutil.rmtree(old)
    staging.rename(final)
    summary.folder = final
    summary.print_files = [final / "print" / p.name for p in summary.print_files]
    record_statuses(conn, night, updates, written=not summary.blocked)
    return summary


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


_BATCH_FOLDER = re.compile(r"^(\d{4}-\d{2}-\d{2})(\.blocked)?$")


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
                    *, written: bool) -> None:
    if not updates:
        return
    table = pa.Table.from_pylist(updates, schema=pa.schema([
        ("contact_id", pa.string()), ("status", pa.string()), ("held_rule", pa.string()),
        ("held_span", pa.string()), ("content_sha256", pa.string())]))
    conn.register("linted_contacts", table)
    run_sql(conn, "collections/update_contact_status", {"night": night, "written": written})
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
    }
