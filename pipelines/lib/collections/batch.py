"""A night's letter batch: render and lint every planned contact, write the files, record status.

Output under `<out>/<night>/` (DOMAIN §5, issue 5): `manifest.csv`, `sms.jsonl`, `email/*.eml`,
`print/*.pdf` + `print/index.csv`, `work_list.csv`, `held.csv`, `summary.json` (counts only).
The folder is written beside the final one and renamed into place, so a reader never sees half a
batch. When a template fails the linter for every contact it was rendered for, the batch is
blocked: it goes to `<night>.blocked/` instead and nothing is released.

Personal data appears only in these files, never in the returned summary (which is what reaches
logs and asset metadata).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from pathlib import Path

import duckdb
import pyarrow as pa

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
                            "official_channels", "forbidden_phrase", "time_barred_litigation"})
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


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
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

    @property
    def blocked(self) -> bool:
        return bool(self.failing_templates)


def fetch_contacts(conn: duckdb.DuckDBPyConnection, strategy: Strategy, night: date) -> list[dict]:
    """The night's planned and held contacts with everything needed to render them."""
    register_strategy(conn, strategy)
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


def _eml(row: dict, rendered: Rendered, lender: dict) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((lender["name"], f"no-reply@{_domain(lender['opt_out_url'])}"))
    message["To"] = formataddr((row["full_name"] or "", row["email"]))
    message["Subject"] = rendered.subject or ""
    message["Date"] = format_datetime(row["scheduled_at"])
    message["Message-ID"] = f"<{row['letter_id']}@{_domain(lender['opt_out_url'])}>"
    message["List-Unsubscribe"] = f"<{lender['opt_out_url']}>"
    message["X-Letter-Reference"] = row["letter_id"]
    message.set_content(rendered.parts["txt"])
    message.add_alternative(rendered.parts["html"], subtype="html")
    # Python draws a random MIME boundary: a rerun of the night would write different bytes (and
    # sha256 in the manifest and contact_history) for the same letter. The letter id is unique.
    message.set_boundary(f"==overdue-{row['letter_id']}==")
    return message.as_bytes()


def _domain(url: str) -> str:
    return url.split("//", 1)[-1].split("/", 1)[0].removeprefix("www.")


MANIFEST = ["letter_id", "account_id", "customer_id", "channel", "template", "template_version",
            "locale", "sha256", "path", "scheduled_at"]
WORK_LIST = ["contact_id", "queue", "priority", "tier", "treatment", "account_id", "customer_id",
             "full_name", "mobile_phone", "account_last4", "currency", "days_past_due",
             "past_due_amount", "balance", "risk_grade", "reason_codes_zh", "reason_codes_en",
             "call_date", "call_window", "timezone", "max_calls", "jurisdiction"]
HELD = ["contact_id", "letter_id", "account_id", "customer_id", "channel", "template",
        "template_version", "locale", "jurisdiction", "rule", "span"]
PRINT_INDEX = ["file", "first_page", "pages", "letter_id", "account_id", "customer_id", "locale",
               "full_name", "postal_address", "city", "region", "postal_code"]


def write_batch(conn: duckdb.DuckDBPyConnection, strategy: Strategy, night: date, out: Path,
                *, write_pdfs: bool = True) -> BatchSummary:
    """Render, lint and write the night's batch; record each contact's status and sha256."""
    import time

    started = time.perf_counter()
    rows = fetch_contacts(conn, strategy, night)
    results = lint_contacts(strategy, rows)
    summary = BatchSummary(night, None)
    summary.render_seconds = time.perf_counter() - started
    staging = out / f".{night}.staging"
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "email").mkdir(parents=True)
    (staging / "print").mkdir()

    manifest, sms, work, held, letters, updates = [], [], [], [], [], []
    per_template: dict[str, list[int]] = {}
    for row, rendered, finding in results:
        channel = row["channel"]
        key = f"{channel}/{row['template'] or row['queue']}.{row['locale']}"
        counts = per_template.setdefault(key, [0, 0])
        counts[0] += 1
        content_hash = None
        if finding:
            counts[1] += finding.rule in TEMPLATE_RULES
            held.append(row | {"rule": finding.rule, "span": finding.span})
            updates.append({"contact_id": row["contact_id"], "status": "held",
                            "held_rule": finding.rule, "held_span": finding.span,
                            "content_sha256": None})
            continue
        if channel in MESSAGE_CHANNELS:
            lender = strategy.jurisdiction(row["jurisdiction"]).lender_for(row["locale"])
            if channel == "sms":
                text = rendered.parts["txt"]
                content = text.encode("utf-8")
                sms.append({"letter_id": row["letter_id"], "to": row["mobile_phone"],
                            "text": text, "sender": lender["sms_signature"],
                            "scheduled_at": row["scheduled_at"].isoformat(),
                            "encoding": "GSM-7" if text.isascii() else "UCS-2"})
                path = f"sms.jsonl#{len(sms)}"
            elif channel == "email":
                content = _eml(row, rendered, lender)
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
            work.append(row | {
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
    summary.by_channel = dict(Counter(r["channel"] for r, _, f in results if not f))

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
    write_csv(staging / "work_list.csv", WORK_LIST,
              sorted(work, key=lambda r: (r["queue"], r["priority"] or 99,
                                          -(r["days_past_due"] or 0), r["account_id"])))
    write_csv(staging / "held.csv", HELD, held)
    (staging / "summary.json").write_text(json.dumps(summary_counts(summary), indent=2,
                                                     ensure_ascii=False), encoding="utf-8")

    final = out / (f"{night}.blocked" if summary.blocked else str(night))
    for old in (out / str(night), out / f"{night}.blocked"):
        if old.exists():
            shutil.rmtree(old)
    staging.rename(final)
    summary.folder = final
    summary.print_files = [final / "print" / p.name for p in summary.print_files]
    record_statuses(conn, night, updates, written=not summary.blocked)
    return summary


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
    }
