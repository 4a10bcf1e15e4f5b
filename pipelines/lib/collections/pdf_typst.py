"""Print letters to PDF with Typst (the `typst` package, compiled in-process): the print engine
unless `OVERDUE_PRINT_ENGINE=weasyprint`.

A print file is one Typst document (`reports/letters/print/letter.typ`) holding its letters, each
letter's HTML turned into Typst markup (`typst_markup.py`), so fonts, glyph subsets and images are
laid out and embedded once per file. Each letter starts on a new page (an odd one when the file is
duplex, so the blank back is in the PDF) and counts its own pages. The document records each
letter's pages and whether its address overflows the envelope window; a letter over its page
budget, overflowing the window or failing to lay out is left out and the file compiled again
without it, as `pdf.render_pdf` does with WeasyPrint.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from pipelines import settings
from pipelines.lib.collections.typst_markup import Images, letter_markup, literal

TEMPLATE = settings.REPO_ROOT / "reports" / "letters" / "print" / "letter.typ"
PAPERS = {"a4": "a4", "letter": "us-letter"}
FONTS = {
    "zh": '("Noto Serif CJK SC",)',
    "en": '("DejaVu Serif", "Noto Serif CJK SC")',
}
# line-height of the HTML layout, less the 1em line box
LEADING = {"zh": "0.32em", "en": "0.22em"}
_LANG = re.compile(r'<html[^>]*\blang="([A-Za-z]+)')


@functools.cache
def compiler():
    """One compiler per process: the font book and Typst's caches are kept between files."""
    import typst

    return typst.Compiler(root="/")


def _lang(html: str) -> str:
    found = _LANG.search(html)
    return "zh" if not found or found.group(1).lower() == "zh" else "en"


def letter_source(letter_id: str, html: str, images: Images, duplex: bool) -> str:
    """One letter as a scoped block of the file's document."""
    from pipelines.lib.collections.pdf import protect_links

    lang = _lang(html)
    markup = letter_markup(protect_links(html), images)
    markup = markup.replace('#el("section", ', f'#el("section", lang: "{lang}", ', 1)
    stretch = ", stretch: 87.5%" if lang == "en" else ""
    sheet = ', to: "odd"' if duplex else ""
    return (f"#pagebreak(weak: true{sheet})\n"
            f'#[#set text(lang: "{lang}", font: {FONTS[lang]}{stretch})\n'
            f"#set par(leading: {LEADING[lang]})\n{markup}]\n")


def document(parts: list[str], images: Images, paper, duplex: bool, title: str) -> str:
    margins = ", ".join(f"{k}: {v}" for k, v in paper.margins_mm.items())
    window = ", ".join(f"{k}: {v}" for k, v in paper.window_mm.items())
    head = (f"#import {literal(TEMPLATE.as_posix())}: setup, el\n"
            f"#show: setup.with(paper: \"{PAPERS[paper.css_size.lower()]}\", "
            f"margins: ({margins}), window: ({window}), duplex: {str(duplex).lower()}, "
            f"title: {literal(title)})\n")
    tail = '#pagebreak(weak: true, to: "odd")\n#set page(footer: none)\n#context []\n' \
        if duplex else ""
    return head + "\n".join(images.definitions) + "\n" + "".join(parts) + tail


def _compile(source: str, target: Path) -> tuple[bytes, list[dict]]:
    """The PDF and each letter's pages. The source is a file beside the target while it is
    compiled (Typst queries a document by its file), removed after."""
    main = target.with_name(f".{target.stem}.typ")
    main.write_text(source, encoding="utf-8")
    try:
        compiled = compiler()
        data = compiled.compile(input=str(main), format="pdf", pdf_tags=False)
        letters = json.loads(compiled.query("<letter-pages>", field="value"))
    finally:
        main.unlink(missing_ok=True)
    return data, letters


def _error(error: Exception) -> tuple[str, str]:
    lines = str(getattr(error, "message", "") or error).strip().splitlines()
    return ("pdf_layout_error",
            f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")[:200])


def render_pdf(letters: list[tuple[str, str]], target: Path, paper, duplex: bool = False,
               max_pages: int | None = None
               ) -> tuple[dict[str, tuple[int, int]], int, dict[str, tuple[str, str]]]:
    """As `pdf.render_pdf`: letter_id -> (first page, pages), the file's page count and the
    letters left out with their (rule, span); no file when every letter is left out."""
    max_pages = settings.letter_max_pages() if max_pages is None else max_pages
    failed: dict[str, tuple[str, str]] = {}
    images = Images()
    parts: dict[str, str] = {}
    for letter_id, html in letters:
        try:
            parts[letter_id] = letter_source(letter_id, html, images, duplex)
        except Exception as error:  # noqa: BLE001 - one letter never stops the file
            failed[letter_id] = _error(error)
    while parts:
        source = document(list(parts.values()), images, paper, duplex, target.stem)
        try:
            data, laid_out = _compile(source, target)
        except Exception as whole:  # noqa: BLE001 - find the letter that fails, alone
            alone = {}
            for letter_id, part in parts.items():
                try:
                    _compile(document([part], images, paper, duplex, target.stem), target)
                except Exception as error:  # noqa: BLE001
                    alone[letter_id] = _error(error)
            # none fails alone: the letters fail together (say, two with one id)
            alone = alone or dict.fromkeys(parts, _error(whole))
            failed.update(alone)
            for letter_id in alone:
                del parts[letter_id]
            continue
        if len(laid_out) != len(parts):
            raise RuntimeError(f"{target.name}: {len(parts)} letters, {len(laid_out)} laid out")
        problems = {}
        for letter_id, entry in zip(parts, laid_out, strict=True):
            pages = entry["last"] - entry["first"] + 1
            if pages > max_pages:
                problems[letter_id] = ("print_too_long", (
                    f"{pages} pages, over the letter's budget of {max_pages} "
                    "(OVERDUE_LETTER_MAX_PAGES)"))
            elif entry["overflow"]:
                problems[letter_id] = ("address_too_long",
                                       "the address block overflows the envelope window")
        if problems:
            failed.update(problems)
            for letter_id in problems:
                parts.pop(letter_id, None)
            continue
        target.write_bytes(data)
        spans = {letter_id: (e["first"], e["last"] - e["first"] + 1)
                 for letter_id, e in zip(parts, laid_out, strict=True)}
        last = max(e["last"] for e in laid_out)
        return spans, last + (last % 2 if duplex else 0), failed
    return {}, 0, failed
