"""Print letters to PDF, as a letter shop takes them: print profiles, files and job tickets for
either engine (`OVERDUE_PRINT_ENGINE`: Typst by default, `pdf_typst.py`), and the WeasyPrint
engine, the fallback, described here.

Each letter is laid out as its own document, so its page numbers ("第 1 页 / 共 1 页", "Page 1 of
1") count its own pages, and the pages of many letters are then written as one PDF file
(`Document.copy`): a file per few hundred letters (`settings.letters_per_pdf()`), files rendered in
parallel on the machine's cores. One FontConfiguration and image cache per process. Measured on
200 zh-CN formal demands (one core, CPU time): 5.4 pages/s this way, against 6.5 pages/s for one
long document whose per-letter totals are unknown and 3.0 pages/s for laying it out twice to
learn them (page counters reset per letter need the second pass for "共 N 页").

Letters go to separate files by print profile (`pipelines/config/print.yaml`): paper (A4 for
China, US Letter for the US), duplex, envelope, postage class and the return address printed in
the envelope window. The paper's size, margins and window place are set here, when a letter's
HTML is prepared, never in a template. With duplex, a letter of an odd page count gets a blank
back page, so every letter starts on a new sheet. Each batch gets a job ticket
(`job_ticket.json` / `.csv`): per file its sha256, letters, pages, sheets, paper, duplex,
envelope, postage class and return address, and the batch's totals.

One letter never stops a batch: a letter that fails to lay out (`pdf_layout_error`), runs over
its page budget (`print_too_long`, `OVERDUE_LETTER_MAX_PAGES`, default 3) or whose address block
overflows the envelope window (`address_too_long`) is left out of its file and reported to the
batch, which holds it.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import html as html_lib
import json
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import yaml

from pipelines import settings

PRINT_CONFIG = settings.REPO_ROOT / "pipelines" / "config" / "print.yaml"
START, END = "<!--letter-start-->", "<!--letter-end-->"
TICKET_COLUMNS = ["file", "sha256", "letters", "pages", "sheets", "paper", "duplex", "envelope",
                  "postage_class", "return_address"]
PROFILE_KEYS = ("paper", "duplex", "envelope", "postage_class")

_TAG = re.compile(r"(<[^>]*>)")
_RAW_TEXT = re.compile(r"<(style|script|title)\b", re.IGNORECASE)
# a web address, an e-mail address or a phone number: printed on one line
_UNBREAKABLE = re.compile(
    r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*[A-Za-z0-9/#=&;_~-]"
    r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
    r"|\(\d{3}\) ?\d{3}-\d{4}|\+?\d[\d-]{5,}\d")
_RETURN_ADDRESS = re.compile(r'data-return-address="([^"]*)"')


class PrintConfigError(ValueError):
    """print.yaml is invalid; the message names the key."""


@dataclass(frozen=True)
class Paper:
    name: str
    css_size: str
    margins_mm: dict[str, float]
    window_mm: dict[str, float]

    def stylesheet(self) -> str:
        """The paper's page size and margins and the window's place, over the layout's own."""
        margins, window = self.margins_mm, self.window_mm
        return (
            "<style>"
            f"@page {{ size: {self.css_size}; margin: {margins['top']}mm {margins['right']}mm "
            f"{margins['bottom']}mm {margins['left']}mm; }}"
            f".letterhead {{ height: {window['top'] - margins['top']}mm; }}"
            f".window-row {{ height: {window['height']}mm; }}"
            f".window {{ margin-left: {window['left'] - margins['left']}mm; "
            f"width: {window['width']}mm; height: {window['height']}mm; }}"
            "</style>")


@dataclass(frozen=True)
class Profile:
    """How one print file is printed and posted."""

    paper: str
    duplex: bool
    envelope: str
    postage_class: str


@dataclass(frozen=True)
class PrintConfig:
    papers: dict[str, Paper]
    default: Profile
    jurisdictions: dict[str, dict]

    def profile(self, jurisdiction: str, template: str) -> Profile:
        spec = self.jurisdictions.get(jurisdiction)
        if spec is None:
            return self.default
        values = asdict(self.default) | {k: spec[k] for k in PROFILE_KEYS if k in spec}
        values |= (spec.get("templates") or {}).get(template) or {}
        return Profile(**values)


def _fail(path: Path, key: str, message: str):
    raise PrintConfigError(f"{path}: {key}: {message}")


def _profile_values(path: Path, spec: dict, key: str, *, partial: bool) -> dict:
    if not isinstance(spec, dict):
        _fail(path, key, "expected a mapping")
    unknown = set(spec) - set(PROFILE_KEYS) - ({"templates"} if key.count(".") == 1 else set())
    if unknown:
        _fail(path, f"{key}.{min(unknown)}", f"unknown key (expected {PROFILE_KEYS})")
    for name in PROFILE_KEYS:
        if name not in spec:
            if not partial:
                _fail(path, f"{key}.{name}", "missing")
            continue
        kind = bool if name == "duplex" else str
        if not isinstance(spec[name], kind) or spec[name] in ("", None):
            _fail(path, f"{key}.{name}", f"expected a {kind.__name__}")
    return spec


@functools.cache
def print_config(path: Path = PRINT_CONFIG) -> PrintConfig:
    """print.yaml, validated: every error names the key."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    papers = {}
    for name, spec in (raw.get("papers") or {}).items():
        try:
            papers[name] = Paper(name, str(spec["css_size"]),
                                 {k: float(spec["margins_mm"][k])
                                  for k in ("top", "right", "bottom", "left")},
                                 {k: float(spec["window_mm"][k])
                                  for k in ("top", "left", "width", "height")})
        except (KeyError, TypeError, ValueError) as error:
            _fail(path, f"papers.{name}", f"needs css_size, margins_mm and window_mm ({error})")
    if not papers:
        _fail(path, "papers", "missing")
    default = Profile(**_profile_values(path, raw.get("default"), "default", partial=False))
    jurisdictions = raw.get("jurisdictions") or {}
    for code, spec in jurisdictions.items():
        _profile_values(path, spec, f"jurisdictions.{code}", partial=True)
        for template, override in (spec.get("templates") or {}).items():
            _profile_values(path, override, f"jurisdictions.{code}.templates.{template}",
                            partial=True)
    config = PrintConfig(papers, default, jurisdictions)
    for code in jurisdictions:
        for template in [None, *(jurisdictions[code].get("templates") or {})]:
            paper = config.profile(code, template).paper
            if paper not in papers:
                _fail(path, f"jurisdictions.{code}.paper", f"{paper!r} is not under papers")
    if default.paper not in papers:
        _fail(path, "default.paper", f"{default.paper!r} is not under papers")
    return config


def _unbreakable(match: re.Match) -> str:
    """A web address may wrap only before a "/" of its path; anything else stays whole."""
    text = match.group(0)
    if not text.startswith(("http", "www.")):
        return f'<span class="nobreak">{text}</span>'
    scheme, _, rest = text.partition("//") if "//" in text else ("", "", text)
    head, *path = rest.split("/")
    pieces = [f"{scheme}//{head}" if scheme else head] + [f"/{piece}" for piece in path]
    return "<wbr>".join(f'<span class="nobreak">{piece}</span>' for piece in pieces)


def protect_links(html: str) -> str:
    """The letter with every web address, e-mail address and phone number in its text wrapped so
    the line breaker cannot split it at a hyphen (Pango breaks after "-")."""
    body = html.find("<body")
    pieces = _TAG.split(html[body:]) if body >= 0 else _TAG.split(html)
    raw = False
    for i, piece in enumerate(pieces):
        if i % 2:
            raw = bool(_RAW_TEXT.match(piece))
        elif piece and not raw:
            pieces[i] = _UNBREAKABLE.sub(_unbreakable, piece)
    return (html[:body] if body >= 0 else "") + "".join(pieces)


def prepare(html: str, paper: Paper) -> str:
    """One letter's HTML ready to lay out on `paper`."""
    html = protect_links(html)
    at = html.index("</head>")
    return html[:at] + paper.stylesheet() + html[at:]


def return_address(html: str) -> str:
    found = _RETURN_ADDRESS.search(html)
    return html_lib.unescape(found.group(1)) if found else ""


@functools.cache
def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@functools.cache
def _blank_page(stylesheet: str):
    """The back of a sheet: an empty page of the paper."""
    from weasyprint import HTML

    html = f"<html><head>{stylesheet}</head><body></body></html>"
    return HTML(string=html).render(font_config=_font_config()).pages[0]


def layout_letter(letter_id: str, html: str, paper: Paper, base_url: str, cache: dict):
    """One letter laid out as its own document."""
    from weasyprint import HTML

    return HTML(string=prepare(html, paper), base_url=base_url).render(
        font_config=_font_config(), cache=cache)


def _boxes(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from _boxes(child)


def address_overflows(page) -> bool:
    """The address block runs below the envelope window (which hides what overflows it)."""
    window = address = None
    for box in _boxes(page._page_box):
        element = getattr(box, "element", None)
        classes = (element.get("class") or "").split() if element is not None else ()
        if window is None and "window" in classes:
            window = box
        elif address is None and "address" in classes:
            address = box
    if window is None or address is None:
        return False
    bottom = window.position_y + window.margin_height()
    return address.position_y + address.margin_height() > bottom + 0.5


def letter_problem(document, max_pages: int) -> tuple[str, str] | None:
    """Why a laid-out letter must not be released: (rule, span), or None."""
    if len(document.pages) > max_pages:
        return "print_too_long", (f"{len(document.pages)} pages, over the letter's budget of "
                                  f"{max_pages} (OVERDUE_LETTER_MAX_PAGES)")
    if document.pages and address_overflows(document.pages[0]):
        return "address_too_long", "the address block overflows the envelope window"
    return None


def render_pdf(letters: list[tuple[str, str]], target: Path, paper: Paper,
               duplex: bool = False, max_pages: int | None = None
               ) -> tuple[dict[str, tuple[int, int]], int, dict[str, tuple[str, str]]]:
    """One print file by the engine `OVERDUE_PRINT_ENGINE` names (pdf_typst.py for typst)."""
    if settings.print_engine() == "typst":
        from pipelines.lib.collections import pdf_typst

        return pdf_typst.render_pdf(letters, target, paper, duplex, max_pages)
    return render_pdf_weasyprint(letters, target, paper, duplex, max_pages)


def render_pdf_weasyprint(letters: list[tuple[str, str]], target: Path, paper: Paper,
                          duplex: bool = False, max_pages: int | None = None
                          ) -> tuple[dict[str, tuple[int, int]], int,
                                     dict[str, tuple[str, str]]]:
    """Write one PDF of `letters` ((letter_id, html)); returns letter_id -> (first page, pages),
    1-based, the file's page count (blank backs included) and the letters left out with their
    (rule, span): one that fails to lay out, runs over `max_pages` or overflows the window.
    No file when every letter is left out."""
    max_pages = settings.letter_max_pages() if max_pages is None else max_pages
    cache: dict = {}
    pages, spans, failed = [], {}, {}
    first = None
    for letter_id, html in letters:
        try:
            document = layout_letter(letter_id, html, paper, str(target.parent), cache)
            problem = letter_problem(document, max_pages)
        except Exception as error:  # noqa: BLE001 - one letter never stops the file
            lines = str(error).strip().splitlines()
            problem = ("pdf_layout_error",
                       f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")[:200])
        if problem:
            failed[letter_id] = problem
            continue
        first = first or document
        spans[letter_id] = (len(pages) + 1, len(document.pages))
        pages += document.pages
        if duplex and len(document.pages) % 2:
            pages.append(_blank_page(paper.stylesheet()))
    if first is not None:
        combined = first.copy(pages)
        combined.metadata.title = target.stem
        combined.write_pdf(target)
    return spans, len(pages), failed


def _job(args):
    letters, target, paper, duplex, max_pages = args
    spans, pages, failed = render_pdf(letters, target, paper, duplex, max_pages)
    return target.name, spans, pages, failed


def _file_counts(groups: list[list], letters_per_file: int, workers: int) -> list[int]:
    """Files per group: at most `letters_per_file` letters each, and more files (splitting the
    fullest) until the total is a multiple of the workers, so no worker renders the last alone."""
    counts = [-(-len(group) // letters_per_file) for group in groups]
    while sum(counts) % workers and any(c < len(g) for c, g in zip(counts, groups, strict=True)):
        fullest = max((len(g) / c, i) for i, (c, g) in enumerate(zip(counts, groups, strict=True))
                      if c < len(g))[1]
        counts[fullest] += 1
    return counts


def render_print_batches(letters: list[tuple[dict, str]], folder: Path,
                         workers: int | None = None,
                         failed: dict[str, tuple[str, str]] | None = None) -> list[dict]:
    """Write `letters` ((contact row, rendered HTML)) as print files and their job ticket;
    returns the index rows (the row with its file, first page and pages). Letters that cannot
    be printed are left out, their letter_id -> (rule, span) added to `failed`."""
    config = print_config()
    max_pages = settings.letter_max_pages()
    grouped: dict[tuple, list[tuple[dict, str]]] = {}
    for row, html in letters:
        profile = config.profile(row["jurisdiction"], row["template"])
        grouped.setdefault((profile, return_address(html)), []).append((row, html))
    keys = sorted(grouped, key=lambda k: (k[0].paper, k[0].postage_class, k[0].envelope,
                                          k[0].duplex, k[1]))
    groups = [sorted(grouped[k], key=lambda item: (item[0]["locale"],
                                                   item[0]["postal_code"] or "",
                                                   item[0]["letter_id"])) for k in keys]
    workers = max(1, workers or os.cpu_count() or 1)
    counts = _file_counts(groups, settings.letters_per_pdf(), workers)
    jobs, files = [], []
    for (profile, address), group, count in zip(keys, groups, counts, strict=True):
        per_file = -(-len(group) // count)
        for start in range(0, len(group), per_file):
            chunk = group[start:start + per_file]
            target = folder / f"letters-{len(jobs) + 1:03d}.pdf"
            jobs.append(([(row["letter_id"], html) for row, html in chunk], target,
                         config.papers[profile.paper], profile.duplex, max_pages))
            files.append((target, profile, address, chunk))
    workers = max(1, min(workers, len(jobs)))
    if workers == 1:
        results = [_job(job) for job in jobs]
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_job, jobs))
    index, ticket = [], []
    for (target, profile, address, chunk), (name, spans, pages, left_out) in zip(
            files, results, strict=True):
        if failed is not None:
            failed.update(left_out)
        for row, _ in chunk:
            if row["letter_id"] in spans:
                first, count = spans[row["letter_id"]]
                index.append({**row, "file": name, "first_page": first, "pages": count})
        if not spans:
            continue
        ticket.append({
            "file": name, "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
            "letters": len(spans), "pages": pages,
            "sheets": pages // 2 if profile.duplex else pages, "paper": profile.paper,
            "duplex": profile.duplex, "envelope": profile.envelope,
            "postage_class": profile.postage_class, "return_address": address})
    write_job_ticket(folder, ticket)
    return index


def ticket_totals(files: list[dict]) -> dict:
    return {"files": len(files), "letters": sum(f["letters"] for f in files),
            "pages": sum(f["pages"] for f in files), "sheets": sum(f["sheets"] for f in files),
            "sheets_by_paper": {paper: sum(f["sheets"] for f in files if f["paper"] == paper)
                                for paper in sorted({f["paper"] for f in files})}}


def write_job_ticket(folder: Path, files: list[dict]) -> None:
    """job_ticket.json (files and totals) and job_ticket.csv (one row per file, then a "total"
    row): what the letter shop reconciles the batch against. No personal data."""
    totals = ticket_totals(files)
    (folder / "job_ticket.json").write_text(
        json.dumps({"files": files, "totals": totals}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8")
    with (folder / "job_ticket.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, TICKET_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for entry in files:
            writer.writerow({**entry, "duplex": "yes" if entry["duplex"] else "no"})
        writer.writerow({"file": "total", "letters": totals["letters"], "pages": totals["pages"],
                         "sheets": totals["sheets"]})
