"""The report's PDF, printed from its already-rendered HTML: headless Chromium or WeasyPrint.

Chromium lays out the 12-page report several times faster than WeasyPrint (a browser engine
against pure-Python layout), reads the same CSS (@page size, margins and margin boxes with page
counters, break rules, repeated table headers) and the same system fonts. It prints offline: every
request other than a local file is refused. `OVERDUE_REPORT_PDF_ENGINE` chooses (auto: Chromium
when the browser and Playwright are there, else WeasyPrint); `OVERDUE_CHROMIUM` names the browser.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
from pathlib import Path
from typing import Self

from pipelines import settings

log = logging.getLogger(__name__)

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-extensions"]
PRINT_TIMEOUT_MS = 120_000
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def chromium_path() -> str | None:
    """The browser to print with: `OVERDUE_CHROMIUM`, else /usr/bin/chromium, else chromium or
    chromium-browser on PATH; None when there is none."""
    chosen = settings.chromium()
    if chosen:
        return shutil.which(chosen) or (chosen if Path(chosen).is_file() else None)
    if Path(DEFAULT_CHROMIUM).is_file():
        return DEFAULT_CHROMIUM
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _playwright_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def engine() -> str:
    """`chromium` or `weasyprint`, as `OVERDUE_REPORT_PDF_ENGINE` asks; chromium asked for but
    not found is an error, not a silent fallback."""
    chosen = settings.report_pdf_engine()
    if chosen == "weasyprint":
        return chosen
    found = chromium_path() is not None and _playwright_available()
    if chosen == "chromium" and not found:
        raise RuntimeError(
            "OVERDUE_REPORT_PDF_ENGINE=chromium: no browser found (OVERDUE_CHROMIUM, "
            f"{DEFAULT_CHROMIUM}, chromium or chromium-browser on PATH) or playwright missing")
    return "chromium" if found else "weasyprint"


def pdf_pages(data: bytes) -> int:
    """Page objects in a PDF Chromium wrote (its page tree is not compressed)."""
    return len(_PAGE.findall(data))


def weasyprint_pdf(html: str, path: Path, base_url: str | None = None) -> int:
    """Render with WeasyPrint (A4, fonts from the system); returns the number of pages."""
    import weasyprint

    # WeasyPrint's HTML pass warns about every SVG presentation property (fill, stroke...) it
    # leaves to its SVG renderer: hundreds of lines per report that say nothing
    css_log = logging.getLogger("weasyprint")
    level = css_log.level
    css_log.setLevel(logging.ERROR)
    try:
        document = weasyprint.HTML(string=html, base_url=base_url).render()
        document.write_pdf(path)
    finally:
        css_log.setLevel(level)
    return len(document.pages)


class Printer:
    """Prints HTML files to PDF; with Chromium, one browser for every document of the night.

    Use as a context manager: entering starts the browser (about a second), leaving stops it.
    """

    def __init__(self, engine_name: str | None = None):
        self.engine = engine_name or engine()
        self._playwright = None
        self._browser = None
        self.blocked: list[str] = []

    def __enter__(self) -> Self:
        if self.engine == "chromium":
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            try:
                self._browser = self._playwright.chromium.launch(
                    executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
            except BaseException:
                self._playwright.stop()
                raise
        return self

    def __exit__(self, *exc) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()
        self._browser = self._playwright = None

    def print(self, html_path: Path, pdf_path: Path) -> int:
        """Print one HTML file to `pdf_path`; returns the number of pages."""
        html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
        if self.engine == "weasyprint":
            return weasyprint_pdf(html_path.read_text(encoding="utf-8"), pdf_path,
                                  base_url=str(html_path.parent))
        if self._browser is None:
            raise RuntimeError("Printer used outside its `with` block")
        context = self._browser.new_context(offline=True, service_workers="block")
        try:
            context.route("**/*", self._local_only)
            page = context.new_page()
            page.goto(html_path.as_uri(), wait_until="load", timeout=PRINT_TIMEOUT_MS)
            page.evaluate("document.fonts.ready.then(() => true)")
            data = page.pdf(prefer_css_page_size=True, print_background=True,
                            display_header_footer=False, outline=True)
        finally:
            context.close()
        pdf_path.write_bytes(data)
        return pdf_pages(data)

    def _local_only(self, route) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
            return
        self.blocked.append(url)
        log.warning("report PDF: refused a request to %s (the report prints offline)", url[:200])
        route.abort("blockedbyclient")


def start(stack: contextlib.ExitStack, engine_name: str) -> Printer:
    """The night's printer, entered on `stack`. Chromium chosen by `auto` that does not start (a
    browser that will not launch) falls back to WeasyPrint with a warning: the night still gets
    its PDF; `OVERDUE_REPORT_PDF_ENGINE=chromium` fails instead."""
    try:
        return stack.enter_context(Printer(engine_name))
    except Exception as error:
        if engine_name != "chromium" or settings.report_pdf_engine() == "chromium":
            raise
        log.warning("report PDF: Chromium (%s) did not start (%s); printing with WeasyPrint",
                    chromium_path(), str(error).splitlines()[0][:300])
        return stack.enter_context(Printer("weasyprint"))


def print_pdf(html_path: Path, pdf_path: Path, engine_name: str | None = None) -> int:
    """Print one report HTML file to PDF with the chosen engine; returns the number of pages."""
    with Printer(engine_name) as printer:
        return printer.print(html_path, pdf_path)
