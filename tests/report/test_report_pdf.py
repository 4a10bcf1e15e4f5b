"""The report's PDF from either engine (Chromium, WeasyPrint) printing the same HTML: every table
figure of the HTML in the PDF's text, the bucket counts as counted here from the raw snapshots,
A4 pages numbered "k / n", fonts embedded, no chart split across pages, and nothing fetched from
the network."""

import contextlib
import http.server
import re
import subprocess
import threading
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import duckdb
import pytest

from pipelines.lib.report import printing

pytestmark = pytest.mark.slow

ENGINES = ("chromium", "weasyprint")
LANGUAGES = ("zh-CN", "en")


class Cells(HTMLParser):
    """Each table row's runs of adjacent right-aligned (figure) cells, and each chart's title and
    caption."""

    def __init__(self):
        super().__init__()
        self.rows, self.charts = [], []
        self._row = self._cell = self._field = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "tr":
            self._row = [[]]
        elif tag == "td" and self._row is not None:
            if "num" in classes:
                self._cell = ""
            elif self._row[-1]:
                self._row.append([])
        elif tag == "figure" and "data-chart" in attrs:
            self.charts.append({"title": "", "units": "", "caption": ""})
        elif {"chart-title", "chart-units", "chart-caption"} & set(classes) and self.charts:
            self._field = next(c[6:] for c in classes if c.startswith("chart-"))

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row[-1].append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows += [run for run in self._row if run]
            self._row = None
        elif tag in ("span", "p"):
            self._field = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._field and self.charts:
            self.charts[-1][self._field] += data


def parse(html: Path) -> Cells:
    cells = Cells()
    cells.feed(html.read_text(encoding="utf-8"))
    return cells


def pdf_pages_text(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return text.split("\f")[:-1]


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def printed(report_book, tmp_path_factory) -> dict:
    """(engine, language) -> (html, pdf, pages reported): the session night's HTML printed by
    each engine."""
    out = tmp_path_factory.mktemp("printed")
    result = {}
    for engine in ENGINES:
        with printing.Printer(engine) as printer:
            for language in LANGUAGES:
                html = report_book.out_dir / f"risk_report.{language}.html"
                pdf = out / f"{engine}.{language}.pdf"
                result[engine, language] = (html, pdf, printer.print(html, pdf))
    return result


def hand_counted_buckets(report_book) -> Counter:
    """Tonight's accounts per bucket, from the raw rows and DOMAIN §1's rule written out here."""
    with duckdb.connect(str(report_book.home / "warehouse.duckdb"), read_only=True) as conn:
        rows = conn.execute("select days_past_due, status from account_snapshots "
                            "where snapshot_date = ?", [report_book.night]).fetchall()
    counts = Counter()
    for dpd, status in rows:
        if status == "charged_off" or dpd > 180:
            counts["WO"] += 1
        elif dpd == 0:
            counts["M0"] += 1
        else:
            counts[f"M{min(6, (dpd - 1) // 30 + 1)}"] += 1
    return counts


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("engine", ENGINES)
def test_every_table_figure_of_the_html_is_in_the_pdf(printed, engine, language):
    html, pdf, _ = printed[engine, language]
    rows = parse(html).rows
    assert len(rows) > 60  # KPIs, buckets, flows, forecast, vintages, ECL...
    text = compact("".join(pdf_pages_text(pdf)))
    missing = [row for row in rows if compact("".join(row)) not in text]
    assert missing == []


@pytest.mark.parametrize("engine", ENGINES)
def test_the_bucket_table_carries_the_hand_counted_accounts(report_book, printed, engine):
    counts = hand_counted_buckets(report_book)
    assert sum(counts.values()) > 400 and len(counts) >= 4
    for language in LANGUAGES:
        _, pdf, _ = printed[engine, language]
        lines = "\n".join(pdf_pages_text(pdf)).splitlines()
        for bucket in ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "WO"):
            row = re.compile(rf"^\s*{bucket}\s+{counts[bucket]:,}\s+\d")
            assert any(row.match(line) for line in lines), (language, bucket, counts[bucket])


@pytest.mark.parametrize("engine", ENGINES)
def test_pages_are_a4_numbered_and_fonts_embedded(printed, engine):
    for language in LANGUAGES:
        _, pdf, reported = printed[engine, language]
        info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], check=True,
                              capture_output=True, text=True).stdout
        pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))
        assert pages == reported and pages >= 5
        sizes = re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info, re.MULTILINE)
        assert len(sizes) == pages
        # A4 is 595.28 x 841.89 pt; Chromium rounds to its CSS pixels (594.96 x 841.92)
        assert all(abs(float(w) - 595.28) < 0.5 and abs(float(h) - 841.89) < 0.5
                   for w, h in sizes), sizes
        texts = pdf_pages_text(pdf)
        assert len(texts) == pages
        for k, text in enumerate(texts, start=1):
            assert re.search(rf"(?<!\d){k} / {pages}\s*$", text.rstrip()), (language, k)
        fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True,
                               text=True).stdout.splitlines()[2:]
        assert fonts
        # columns from the right: object id, generation, uni, sub, emb
        assert [line for line in fonts if (line.split()[-5], line.split()[-3]) != ("yes", "yes")
                ] == []


def test_chinese_text_comes_out_as_chinese(printed):
    for engine in ENGINES:
        _, pdf, _ = printed[engine, "zh-CN"]
        text = "".join(pdf_pages_text(pdf))
        assert "风险委员会报告" in text and "迁徙率" in text, engine


@pytest.mark.parametrize("engine", ENGINES)
def test_no_chart_is_split_across_pages(printed, engine):
    """A chart's head (title and units) and the end of its caption print on the same page."""
    for language in LANGUAGES:
        html, pdf, _ = printed[engine, language]
        charts = parse(html).charts
        assert len(charts) >= 10
        pages = [compact(t) for t in pdf_pages_text(pdf)]
        for chart in charts:
            title, tail = compact(chart["title"] + chart["units"]), compact(chart["caption"])[-12:]
            on = [k for k, page in enumerate(pages) if title in page]
            assert len(on) == 1, (language, chart["title"], on)
            assert tail in pages[on[0]], (language, chart["title"])


class Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list] = []

    def do_GET(self):
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args):
        pass


def test_chromium_prints_offline(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    html = tmp_path / "page.html"
    html.write_text(f'<html><head><link rel="stylesheet" href="{url}/style.css">'
                    f'<style>@page {{ size: A4 }}</style></head>'
                    f'<body><p>offline</p><img src="{url}/chart.png"></body></html>',
                    encoding="utf-8")
    try:
        with printing.Printer("chromium") as printer:
            pages = printer.print(html, tmp_path / "page.pdf")
    finally:
        server.shutdown()
    assert pages == 1
    assert Recorder.hits == []
    assert sorted(printer.blocked) == [f"{url}/chart.png", f"{url}/style.css"]
    assert "offline" in "".join(pdf_pages_text(tmp_path / "page.pdf"))


def test_the_engine_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("OVERDUE_REPORT_PDF_ENGINE", "weasyprint")
    assert printing.engine() == "weasyprint"
    monkeypatch.setenv("OVERDUE_REPORT_PDF_ENGINE", "auto")
    assert printing.engine() == "chromium"  # Debian's /usr/bin/chromium is installed here
    monkeypatch.setenv("OVERDUE_CHROMIUM", str(tmp_path / "no-such-browser"))
    assert printing.engine() == "weasyprint"
    monkeypatch.setenv("OVERDUE_REPORT_PDF_ENGINE", "chromium")
    with pytest.raises(RuntimeError, match="no browser found"):
        printing.engine()
    monkeypatch.setenv("OVERDUE_REPORT_PDF_ENGINE", "prince")
    with pytest.raises(ValueError, match="OVERDUE_REPORT_PDF_ENGINE"):
        printing.engine()


def test_a_browser_that_does_not_start_falls_back_to_weasyprint_only_in_auto(monkeypatch,
                                                                             tmp_path, caplog):
    monkeypatch.setenv("OVERDUE_CHROMIUM", "/bin/false")  # found, but not a browser
    html = tmp_path / "page.html"
    html.write_text("<html><head><style>@page { size: A4 }</style></head><body><p>fallback</p>"
                    "</body></html>", encoding="utf-8")
    monkeypatch.setenv("OVERDUE_REPORT_PDF_ENGINE", "auto")
    assert printing.engine() == "chromium"
    with contextlib.ExitStack() as stack:
        printer = printing.start(stack, "chromium")
        assert printer.engine == "weasyprint"
        assert printer.print(html, tmp_path / "page.pdf") == 1
    assert "did not start" in caplog.text
    monkeypatch.setenv("OVERDUE_REPORT_PDF_ENGINE", "chromium")
    with contextlib.ExitStack() as stack, pytest.raises(Exception, match="(?i)launch"):
        printing.start(stack, "chromium")
