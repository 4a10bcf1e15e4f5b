"""Print letters to PDF with WeasyPrint: many letters per file (49 pages/s batched against 5
pages/s one PDF per letter, STACK.md), files rendered in parallel on the machine's cores.

Each letter is a `<section class="letter">` of its own rendered HTML (between the
`<!--letter-start-->` / `<!--letter-end-->` markers of `letter/_layout.html.j2`); its footer
carries its own reference through CSS `string-set`. The print shop's index gives each letter's
file, first page and page count, found from the letter's anchor in the laid-out document.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from pipelines import settings

START, END = "<!--letter-start-->", "<!--letter-end-->"


def _section(html: str) -> str:
    return html[html.index(START) + len(START):html.index(END)]


def render_pdf(html: str, target: Path, letter_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Write one PDF; returns letter_id -> (first page, pages), 1-based."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=str(target.parent)).render()
    first_pages = {}
    for number, page in enumerate(document.pages, 1):
        for anchor in page.anchors:
            if anchor not in first_pages:
                first_pages[anchor] = number
    document.write_pdf(target)
    total = len(document.pages)
    starts = sorted((first_pages[i], i) for i in letter_ids)
    spans = {}
    for k, (start, letter_id) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else total + 1
        spans[letter_id] = (start, end - start)
    return spans


def _job(args):
    html, target, letter_ids = args
    return target.name, render_pdf(html, target, letter_ids)


def render_print_batches(letters: list[tuple[dict, str]], folder: Path,
                         workers: int | None = None) -> list[dict]:
    """Write `letters` ((contact row, rendered HTML)) as print files; returns the index rows."""
    ordered = sorted(letters, key=lambda item: (item[0]["locale"], item[0]["postal_code"] or "",
                                                item[0]["letter_id"]))
    workers = max(1, workers or os.cpu_count() or 1)
    # as many files as LETTERS_PER_FILE asks for, rounded up to a multiple of the workers and
    # filled evenly, so no worker renders the last file alone
    letters_per_file = settings.letters_per_pdf()
    files = -(-len(ordered) // letters_per_file)
    files = -(-files // workers) * workers
    per_file = max(1, -(-len(ordered) // files)) if files else letters_per_file
    jobs = []
    for number, start in enumerate(range(0, len(ordered), per_file), 1):
        chunk = ordered[start:start + per_file]
        head = chunk[0][1][:chunk[0][1].index(START)]
        html = head + "".join(_section(h) for _, h in chunk) + "</body></html>"
        target = folder / f"letters-{number:03d}.pdf"
        jobs.append((html, target, [row["letter_id"] for row, _ in chunk]))
    workers = max(1, min(workers, len(jobs)))
    if workers == 1:
        results = [_job(job) for job in jobs]
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_job, jobs))
    spans = {}
    for name, letter_spans in results:
        for letter_id, (first, pages) in letter_spans.items():
            spans[letter_id] = (name, first, pages)
    index = []
    for row, _ in ordered:
        name, first, pages = spans[row["letter_id"]]
        index.append({**row, "file": name, "first_page": first, "pages": pages})
    return index
