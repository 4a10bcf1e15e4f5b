"""The e-mail as Python's `email` package built it before `pipelines/lib/collections/mime.py`:
the reference the direct writer is held to (tests/collections/test_email_mime.py) and measured
against (tooling/bench/collections.py)."""

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from pipelines.lib.collections.batch import _domain, unsubscribe_url
from pipelines.lib.collections.rendering import Rendered


def reference_email(row: dict, rendered: Rendered, lender: dict, opt_out: dict | None) -> bytes:
    """`build_email` as it was: EmailMessage with the SMTP policy."""
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((lender["name"], f"no-reply@{_domain(lender['opt_out_url'])}"))
    message["To"] = formataddr((row["full_name"] or "", row["email"]))
    message["Subject"] = rendered.subject or ""
    message["Date"] = format_datetime(row["scheduled_at"])
    message["Message-ID"] = f"<{row['letter_id']}@{_domain(lender['opt_out_url'])}>"
    if opt_out is not None:
        message["List-Unsubscribe"] = f"<{unsubscribe_url(opt_out['url'], row['letter_id'])}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["X-Letter-Reference"] = row["letter_id"]
    if row.get("corrects_letter_id"):
        message["X-Letter-Replaces"] = row["corrects_letter_id"]
    message.set_content(rendered.parts["txt"])
    message.add_alternative(rendered.parts["html"], subtype="html")
    message.set_boundary(f"==overdue-{row['letter_id']}==")
    return message.as_bytes()
