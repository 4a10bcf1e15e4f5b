"""Which PDF engine prints the letters: pages/s per engine per core on the golden letters, and
the night's batch path on a pool of workers against the Jinja2 render kernel.

    python -m tooling.bench.print_engines --letters 200 --batch 2000 --workers 2

Engines, each rendering the golden zh-CN formal demand (A4) and en-US validation notice (US
Letter) in the Simplified-Chinese font: WeasyPrint and Typst lay out the letter's HTML as a
night does (`pdf.render_pdf_weasyprint`, `pdf_typst.render_pdf`); fpdf2 and reportlab draw a
fair approximation by hand (letterhead, window address, the paragraphs, the table of amounts,
footer). reportlab cannot embed Noto CJK (CFF outlines in an OpenType collection), so it draws
with Adobe's non-embedded STSong-Light: its figure is a lower bound of its cost.
Per core: one process, pages over its CPU seconds. The batch: `render_print_batches` (files of
`OVERDUE_LETTERS_PER_PDF`, one process per worker), pages over wall seconds, beside the Jinja2
rendering of the same rows in the same run.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from pipelines import settings
from pipelines.lib.collections import pdf, pdf_typst
from pipelines.lib.collections.typst_markup import Node, parse

GOLDEN = settings.REPO_ROOT / "tests" / "collections" / "golden"
LETTERS = {"zh-CN": ("letter.formal_demand.zh-CN.CN.html", "A4"),
           "en-US": ("letter.validation_notice.en-US.US.html", "Letter")}
SERIF = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
SANS_BOLD = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
SC_INDEX = 2  # Simplified Chinese in the Noto CJK collections


def golden(locale: str, copies: int) -> list[tuple[str, str]]:
    html = (GOLDEN / LETTERS[locale][0]).read_text(encoding="utf-8")
    return [(f"260503-B{i:09d}", html.replace("260503-ABCDEF0123", f"260503-B{i:09d}"))
            for i in range(copies)]


def _text(node) -> str:
    if isinstance(node, str):
        return node
    if node.tag == "br":
        return "\n"
    return "".join(_text(child) for child in node.children)


def blocks(html: str) -> list[tuple[str, object]]:
    """The letter as (kind, text) blocks, tables as rows of cells: what fpdf2 and reportlab draw."""
    out = []

    def walk(node: Node):
        for child in node.children:
            if not isinstance(child, Node):
                continue
            if child.tag in ("p", "h1", "h3"):
                out.append((child.tag, " ".join(_text(child).split())))
            elif child.tag == "table":
                rows = [[" ".join(_text(c).split()) for c in tr.children
                         if isinstance(c, Node) and c.tag in ("th", "td")]
                        for tr in child.children if isinstance(tr, Node) and tr.tag == "tr"]
                out.append(("table", rows))
            elif child.tag == "div" and "address" in (child.attrs.get("class") or ""):
                out.append(("address", _text(child).strip()))
            else:
                walk(child)

    walk(parse(html))
    return out


def simplified_chinese(collection: str, folder: Path) -> Path:
    """The Simplified-Chinese face of a Noto CJK collection as its own file (fpdf2 2.8.3 reads
    the first face of a .ttc, the Japanese one)."""
    from fontTools.ttLib import TTCollection

    target = folder / (Path(collection).stem + "-SC.otf")
    if not target.exists():
        TTCollection(collection).fonts[SC_INDEX].save(target)
    return target


def fpdf2_render(letters: list[tuple[str, str]], target: Path, paper: str) -> int:
    from fpdf import FPDF

    document = FPDF(format="A4" if paper == "A4" else "letter", unit="mm")
    document.add_font("serif", "", simplified_chinese(SERIF, target.parent))
    document.add_font("sans", "B", simplified_chinese(SANS_BOLD, target.parent))
    document.set_auto_page_break(True, margin=14)
    for letter_id, html in letters:
        document.add_page()
        document.set_margins(18, 10, 15)
        for kind, content in blocks(html):
            if kind == "address":
                document.set_xy(20, 33)
                document.set_font("serif", size=10)
                document.multi_cell(85, 4.8, content, new_x="LMARGIN", new_y="NEXT")
                document.set_y(70)
            elif kind == "table":
                document.set_font("serif", size=8.8)
                with document.table(col_widths=(40, 137), text_align=("LEFT", "RIGHT"), first_row_as_headings=False,
                                    line_height=3.6) as table:
                    for cells in content:
                        row = table.row()
                        for cell in cells:
                            row.cell(cell)
            elif kind in ("h1", "h3"):
                document.set_font("sans", "B", 12.5 if kind == "h1" else 9.5)
                document.multi_cell(0, 5, content, align="C" if kind == "h1" else "L",
                                     new_x="LMARGIN", new_y="NEXT")
            else:
                document.set_font("serif", size=10)
                document.multi_cell(0, 4.6, content, new_x="LMARGIN", new_y="NEXT")
        document.set_y(-12)
        document.set_font("serif", size=7.5)
        document.cell(0, 4, f"函件编号 {letter_id}    第 1 页 / 共 1 页")
    document.output(str(target))
    return document.pages_count


def reportlab_render(letters: list[tuple[str, str]], target: Path, paper: str) -> int:
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4, LETTER
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=10, leading=13.2,
                          wordWrap="CJK")
    heading = ParagraphStyle("h", parent=body, fontSize=12.5, leading=15, alignment=1)
    story = []
    for letter_id, html in letters:
        for kind, content in blocks(html):
            if kind == "table":
                story.append(Table([[Paragraph(escape(c), body) for c in cells]
                                    for cells in content], colWidths=(60 * mm, 117 * mm),
                                   style=[("GRID", (0, 0), (-1, -1), 0.4, "#999999")]))
            elif kind == "address":
                story += [Spacer(1, 10 * mm), Paragraph(escape(content).replace("\n", "<br/>"),
                                                        body), Spacer(1, 10 * mm)]
            else:
                story.append(Paragraph(escape(content), heading if kind == "h1" else body))
        story.append(Paragraph(escape(f"函件编号 {letter_id} 第 1 页 / 共 1 页"), body))
        story.append(PageBreak())
    document = SimpleDocTemplate(str(target), pagesize=A4 if paper == "A4" else LETTER,
                                 leftMargin=18 * mm, rightMargin=15 * mm, topMargin=10 * mm,
                                 bottomMargin=14 * mm)
    document.build(story)
    return document.page


def per_core(engine: str, locale: str, count: int, folder: Path) -> tuple[int, float, float]:
    """(pages, CPU seconds, wall seconds) of one file of `count` golden letters."""
    letters = golden(locale, count)
    paper_name = LETTERS[locale][1]
    paper = pdf.print_config().papers[paper_name]
    target = folder / f"{engine}-{locale}.pdf"
    started, cpu = time.perf_counter(), time.process_time()
    if engine == "typst":
        spans, _, failed = pdf_typst.render_pdf(letters, target, paper)
        pages = sum(n for _, n in spans.values())
    elif engine == "weasyprint":
        spans, _, failed = pdf.render_pdf_weasyprint(letters, target, paper)
        pages = sum(n for _, n in spans.values())
    elif engine == "fpdf2":
        pages, failed = fpdf2_render(letters, target, paper_name), {}
    else:
        pages, failed = reportlab_render(letters, target, paper_name), {}
    assert not failed, failed
    return pages, time.process_time() - cpu, time.perf_counter() - started


def batch_rows(count: int) -> list[dict]:
    from tests.collections.rows import contact

    rows = []
    for i in range(count):
        if i % 4 == 3:
            rows.append(contact("letter", "validation_notice", "en-US", "US",
                                letter_id=f"260503-U{i:09d}", contact_id=f"260503-U{i:09d}",
                                full_name=f"Mary O'Brien {i}", postal_address=f"{i} Main Street",
                                city="Houston", region="TX", postal_code="77002",
                                currency="USD", currency_symbol="$"))
        else:
            rows.append(contact("letter", "formal_demand", "zh-CN", "CN",
                                letter_id=f"260503-C{i:09d}", contact_id=f"260503-C{i:09d}",
                                full_name=f"欧阳娜娜{i}", postal_code=f"{100000 + i % 900:06d}"))
    return rows


def batch(count: int, workers: int, engine: str, folder: Path) -> dict:
    from pipelines.lib.collections.rendering import Renderer
    from pipelines.lib.collections.strategy import load_strategy

    rows = batch_rows(count)
    renderer = Renderer(load_strategy())
    started = time.perf_counter()
    letters = [(row, renderer.render(row).parts["html"]) for row in rows]
    kernel = time.perf_counter() - started
    os.environ["OVERDUE_PRINT_ENGINE"] = engine
    out = folder / f"batch-{engine}"
    out.mkdir()
    started = time.perf_counter()
    cpu = _cpu()
    failed: dict = {}
    index = pdf.render_print_batches(letters, out, workers=workers, failed=failed)
    seconds = time.perf_counter() - started
    cpu = _cpu() - cpu
    assert not failed, failed
    pages = sum(row["pages"] for row in index)
    return {"letters": len(index), "pages": pages, "seconds": seconds, "kernel": kernel,
            "cpu": cpu, "files": len(list(out.glob("*.pdf")))}


def _cpu() -> float:
    """CPU seconds of this process and its finished workers."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=200, help="letters per engine and locale")
    parser.add_argument("--engines", default="typst,weasyprint,fpdf2,reportlab")
    parser.add_argument("--batch", type=int, default=2000, help="letters in the batch (0: none)")
    parser.add_argument("--batch-engines", default="typst")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    home = settings.overdue_home() / "bench"
    home.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="print-engines-", dir=home))
    try:
        print(f"{'engine':<11} {'locale':<6} {'pages':>6} {'pages/s per core':>17} "
              f"{'wall pages/s':>13}")
        for engine in args.engines.split(","):
            for locale in LETTERS:
                per_core(engine, locale, 2, folder)  # fonts loaded, caches warm
                pages, cpu, wall = per_core(engine, locale, args.letters, folder)
                print(f"{engine:<11} {locale:<6} {pages:>6} {pages / cpu:>17.1f} "
                      f"{pages / wall:>13.1f}", flush=True)
        for engine in args.batch_engines.split(",") if args.batch else []:
            result = batch(args.batch, args.workers, engine, folder)
            print(f"batch {engine} on {args.workers} workers: {result['letters']} letters, "
                  f"{result['pages']} pages in {result['files']} files, "
                  f"{result['seconds']:.2f} s = {result['pages'] / result['seconds']:.1f} "
                  f"pages/s; Jinja2 render kernel {result['kernel']:.3f} s "
                  f"({result['letters'] / result['kernel']:.0f} letters/s), print/kernel "
                  f"{result['seconds'] / result['kernel']:.1f}x; {result['cpu']:.1f} CPU s = "
                  f"{result['pages'] / result['cpu']:.1f} pages per CPU second, "
                  f"{args.workers * result['pages'] / result['cpu']:.1f} pages/s on "
                  f"{args.workers} idle cores", flush=True)
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
