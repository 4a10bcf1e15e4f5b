"""An e-mail's MIME bytes written directly, byte for byte what `email.message.EmailMessage` with
the SMTP policy writes for the same letter (multipart/alternative, text then HTML, UTF-8).

Python's `email` package parses every header it is given into a tree and folds it back when the
message is written, about a millisecond per letter; the bodies and the few header shapes a letter
has are written here instead. The bodies use the package's own encoders and its rule for choosing
the transfer encoding (`email.contentmanager`), so they are the same bytes. A header that is not
one of the simple shapes (a long, non-ASCII or quoted value) is folded by the package's header
classes themselves, once per distinct value: the lender's From line and a template's subject
recur all night. tests/collections/test_email_mime.py holds the two paths to the same bytes.
"""

from __future__ import annotations

import binascii
import functools
import re
from datetime import datetime
from email import quoprimime
from email._encoded_words import encode as encoded_word
from email.utils import format_datetime, formataddr

MAX_LINE = 78  # the SMTP policy's max_line_length
CRLF = "\r\n"
ADDRESS_HEADERS = frozenset({"From", "To"})
# A value written as is: printable ASCII, no run of spaces, nothing the header parsers read as
# structure (quotes, comments, escapes, encoded words).
_PLAIN = re.compile(r"[!#-'*-\[\]-~]+(?: [!#-'*-\[\]-~]+)*")
_PLAIN_BOUNDARY = re.compile(r"[A-Za-z0-9=._-]+")
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
# a display name that is one word of characters beyond ASCII, maybe with ASCII letters and
# digits (a Chinese name, a name and a number)
_WIDE_WORD = re.compile(r"[A-Za-z0-9]*[\u00a0-\ud7ff\ue000-\U0010ffff]"
                        r"[A-Za-z0-9\u00a0-\ud7ff\ue000-\U0010ffff]*")
_NO_WSP_OR_SPECIALS = re.compile(r"[^\s\u0085\u2028\u2029\u00a0\u1680\u2000-\u200a\u202f"
                                 r"\u205f\u3000\ufeff]+")


@functools.lru_cache(maxsize=16384)
def _folded_by_email_package(name: str, value: str) -> str:
    from email.policy import SMTP

    return SMTP.header_factory(name, value).fold(policy=SMTP)


# Headers the package folds as unstructured text; the others (addresses, dates, ids) have
# parsers of their own.
UNSTRUCTURED = frozenset({"Subject", "List-Unsubscribe", "List-Unsubscribe-Post",
                          "X-Letter-Reference", "X-Letter-Replaces"})
_ALNUM = re.compile(r"[A-Za-z0-9]")
_EW = re.compile(r"=\?utf-8\?([bq])\?([^?]*)\?=")


def header(name: str, value: str) -> str:
    """`name: value` folded as the SMTP policy folds it, CRLF-terminated."""
    line = f"{name}: {value}"
    if len(line) <= MAX_LINE and _PLAIN.fullmatch(value) and (
            name not in ADDRESS_HEADERS or _plain_mailbox(value)):
        return line + CRLF
    if name in UNSTRUCTURED and "=?" not in value:
        folded = _unstructured(name, value)
        if folded is not None:
            return folded
    return _folded_by_email_package(name, value)


def _unstructured(name: str, value: str) -> str | None:
    """An unstructured header folded from the fold of its shape: the value with every ASCII
    letter and digit made `a`. Letters and digits are one class to the folder (atext, written as
    themselves in a quoted-printable encoded word, one byte in base64), so the shape folds at
    the same places into words of the same encodings and lengths; the value's own letters and
    digits are then put back in order. A subject that differs per letter only by its account's
    last digits is folded once. None when the shape's fold does not re-encode to itself."""
    shape = _ALNUM.sub("a", value)
    folded = _folded_by_email_package(name, shape)
    prefix = f"{name}:"
    if shape == value or not folded.startswith(prefix):
        return folded if shape == value else None
    own = iter(_ALNUM.findall(value))

    def put_back(text: str) -> str:
        return _ALNUM.sub(lambda _: next(own), text)

    out, at = [prefix], len(prefix)
    for match in _EW.finditer(folded, at):
        out.append(put_back(folded[at:match.start()]))
        encoding, payload = match.groups()
        text = _decoded(encoding, payload)
        if text is None or encoded_word(text, charset="utf-8", encoding=encoding) != match[0]:
            return None
        out.append(encoded_word(put_back(text), charset="utf-8", encoding=encoding))
        at = match.end()
    out.append(put_back(folded[at:]))
    if next(own, None) is not None:
        return None
    return "".join(out)


def _decoded(encoding: str, payload: str) -> str | None:
    try:
        raw = (binascii.a2b_base64(payload) if encoding == "b"
               else quoprimime.header_decode(payload).encode("latin-1"))
        return raw.decode("utf-8")
    except (binascii.Error, UnicodeError):
        return None


def _plain_mailbox(value: str) -> bool:
    """`addr@domain` or `Display Name <addr@domain>` in ASCII words only."""
    if _PLAIN_ADDRESS.fullmatch(value):
        return True
    display, _, rest = value.partition(" <")
    return (rest.endswith(">") and _PLAIN_ADDRESS.fullmatch(rest[:-1]) is not None
            and re.fullmatch(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*", display) is not None)


def mailbox(name: str, display: str, address: str) -> str:
    """The header line of `display <address>`, as `formataddr` and the SMTP policy write it."""
    if display and _WIDE_WORD.fullmatch(display) and _NO_WSP_OR_SPECIALS.fullmatch(display) \
            and _PLAIN_ADDRESS.fullmatch(address):
        word = encoded_word(display, charset="utf-8")
        line = f"{name}: {word} <{address}>"
        if len(line) <= MAX_LINE:
            return line + CRLF
    return header(name, formataddr((display, address)))


def _encode_text(text: str) -> tuple[str, str]:
    """(transfer encoding, payload) as `email.contentmanager` chooses and writes them for a
    UTF-8 text part under the SMTP policy (8-bit transport allowed)."""
    lines = text.encode("utf-8").splitlines()
    if max((len(x) for x in lines), default=0) <= MAX_LINE:
        body = b"\n".join(lines) + b"\n"
        try:
            return "7bit", body.decode("ascii")
        except UnicodeDecodeError:
            return "8bit", body.decode("ascii", "surrogateescape")
    sniff = b"\r\n".join(lines[:10]) + b"\r\n"
    sniff_qp = quoprimime.body_encode(sniff.decode("latin-1"), MAX_LINE)
    if len(sniff_qp) > len(binascii.b2a_base64(sniff)):
        data = b"\r\n".join(lines) + b"\r\n"
        step = MAX_LINE // 4 * 3
        return "base64", "".join(binascii.b2a_base64(data[i:i + step]).decode("ascii")
                                 for i in range(0, len(data), step))
    if len(lines) <= 10:
        return "quoted-printable", sniff_qp
    return "quoted-printable", quoprimime.body_encode(
        (b"\n".join(lines) + b"\n").decode("latin-1"), MAX_LINE)


def _payload_lines(payload: str) -> str:
    """The payload as the generator writes it: every line ended by CRLF."""
    lines = payload.splitlines()
    out = CRLF.join(lines)
    if payload.endswith(("\n", "\r")):
        out += CRLF
    return out


def _part(subtype: str, text: str, mime_version: bool) -> str:
    cte, payload = _encode_text(text)
    return (f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
            f"Content-Transfer-Encoding: {cte}{CRLF}"
            + (f"MIME-Version: 1.0{CRLF}" if mime_version else "")
            + CRLF + _payload_lines(payload))


def email_bytes(*, sender: tuple[str, str], recipient: tuple[str, str], subject: str,
                date: datetime, message_id: str, extra: list[tuple[str, str]], text: str,
                html: str, boundary: str) -> bytes:
    """One e-mail, multipart/alternative of `text` and `html`; `extra` are the headers between
    Message-ID and MIME-Version, in order."""
    head = [mailbox("From", *sender), mailbox("To", *recipient), header("Subject", subject),
            header("Date", format_datetime(date)), header("Message-ID", message_id)]
    head += [header(name, value) for name, value in extra]
    head.append(f"MIME-Version: 1.0{CRLF}")
    content_type = f'Content-Type: multipart/alternative; boundary="{boundary}"'
    head.append(content_type + CRLF if len(content_type) <= MAX_LINE and _PLAIN_BOUNDARY.fullmatch(
        boundary) else header("Content-Type", f'multipart/alternative; boundary="{boundary}"'))
    body = (f"{CRLF}--{boundary}{CRLF}{_part('plain', text, False)}"
            f"{CRLF}--{boundary}{CRLF}{_part('html', html, True)}"
            f"{CRLF}--{boundary}--{CRLF}")
    return ("".join(head) + body).encode("ascii", "surrogateescape")
