"""The report of a simulated book, built by the real nightly Dagster job: files, charts, metadata,
no personal data anywhere, PDF pages that are not blank and carry the Chinese text."""

import re
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from pipelines.lib.report import printing
from pipelines.lib.report.render import strings

pytestmark = pytest.mark.slow

# charts that need only the ingest and features stages (the model and collections ones need
# their tables: test_report_sections.py)
FEATURE_CHARTS = {"bucket_mix", "grading_mix", "delinquency_trend", "trend_by_product",
                  "roll_heatmap", "roll_change", "flow_rates", "forecast_mix", "backtest",
                  "vintage", "stage_mix"}
LANGUAGES = ("zh-CN", "en")


class Figures(HTMLParser):
    """Each <figure data-chart>: its title, units, caption and the SVG elements inside."""

    def __init__(self):
        super().__init__()
        self.figures, self.current, self.field = {}, None, None
        self.images, self.scripts, self.links = [], 0, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag in ("link", "a") and (attrs.get("href") or "").startswith(("http", "//")):
            self.links.append(attrs["href"])
        if tag == "figure" and "data-chart" in attrs:
            self.current = {"title": "", "units": "", "caption": "", "svg": 0, "paths": 0}
            self.figures[attrs["data-chart"]] = self.current
        elif self.current is not None:
            if tag == "svg":
                self.current["svg"] += 1
            if tag in ("path", "use", "rect", "line", "polyline"):
                self.current["paths"] += 1
            cls = attrs.get("class", "")
            self.field = {"chart-title": "title", "chart-units": "units",
                          "chart-caption": "caption"}.get(cls, self.field)

    def handle_endtag(self, tag):
        if tag == "figure":
            self.current = None
        if tag in ("span", "p"):
            self.field = None

    def handle_data(self, data):
        if self.current is not None and self.field:
            self.current[self.field] += data.strip()


def parse(path):
    parser = Figures()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_the_nightly_run_writes_both_languages_and_its_checks_pass(report_book):
    assert report_book.run_success
    assert report_book.checks["risk_report_charts_rendered"]
    assert report_book.checks["risk_report_pdf_pages"]
    assert sorted(p.name for p in report_book.out_dir.iterdir()) == [
        "risk_report.en.html", "risk_report.en.pdf", "risk_report.zh-CN.html",
        "risk_report.zh-CN.pdf"]
    # a backfill reports its last night only, and says so
    assert [p.name for p in (report_book.home / "out" / "reports").iterdir()] == [
        report_book.night.isoformat()]
    meta = report_book.metadata
    assert meta["nights_in_run"].value == (report_book.night - report_book.first_night).days + 1
    assert "last night" in meta["note"].value
    assert meta["html_nightly_zh-CN"].value == str(report_book.out_dir / "risk_report.zh-CN.html")
    assert meta["pdf_engine"].value == printing.engine()  # OVERDUE_REPORT_PDF_ENGINE, or found


def test_the_demo_lists_the_nights_files(report_book):
    from pipelines.lib.report import report_files

    assert [p.name for p in report_files(report_book.home, report_book.night)] == [
        "risk_report.zh-CN.html", "risk_report.en.html", "risk_report.zh-CN.pdf",
        "risk_report.en.pdf"]
    assert report_files(report_book.home, report_book.first_night) == []


def test_metadata_holds_the_books_figures_as_numbers(report_book):
    import duckdb

    meta = {k: v.value for k, v in report_book.metadata.items()}
    with duckdb.connect(str(report_book.home / "warehouse.duckdb"), read_only=True) as conn:
        accounts, rate, balance = conn.execute(
            "select accounts, rate_30plus_accounts, balance from portfolio_daily "
            "where snapshot_date = ? and product = 'all' and currency = 'all'",
            [report_book.night]).fetchone()
    assert meta["accounts"] == accounts
    assert meta["rate_30plus_accounts"] == pytest.approx(rate)
    assert meta["balance"] == pytest.approx(float(balance))
    assert 0 < meta["ecl_total"] < meta["balance"]
    assert 0 <= meta["forecast_30plus_in_3_months"] <= 1
    assert f"{accounts:,}" in meta["kpis"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_chart_is_drawn_with_title_units_and_caption(report_book, language):
    page = parse(report_book.out_dir / f"risk_report.{language}.html")
    assert set(page.figures) >= FEATURE_CHARTS
    words = strings()[language]["charts"]
    for key, figure in page.figures.items():
        assert figure["svg"] == 1 and figure["paths"] >= 5, key
        assert figure["title"] == words[key]["title"]
        assert figure["units"] == f"({words[key]['units']})"
        assert figure["caption"] == words[key]["caption"]
    # self-contained: no script, no external image or stylesheet
    assert page.scripts == 0 and page.links == []
    assert all(src.startswith("data:") for src in page.images)


@pytest.mark.parametrize("language", LANGUAGES)
def test_sections_without_their_stage_say_so(report_book, language):
    html = (report_book.out_dir / f"risk_report.{language}.html").read_text(encoding="utf-8")
    words = strings()[language]
    model = html[html.index('id="section-7"'):html.index('id="section-8"')]
    collections = html[html.index('id="section-9"'):html.index('id="section-10"')]
    assert words["not_available"] in model
    assert collections.count(words["not_available"]) == 5
    assert len(re.findall(r"<li>[^<]{10,}</li>", html[html.index('class="sentences"'):])) >= 3


def _pdf_text(path):
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def test_no_personal_data_in_any_output(report_book):
    assert len(report_book.personal_values) > 500  # names, phones, e-mails, addresses
    outputs = []
    for path in sorted(report_book.out_dir.iterdir()):
        text = _pdf_text(path) if path.suffix == ".pdf" else path.read_text(encoding="utf-8")
        outputs.append((path.name, text))
    outputs.append(("metadata", " ".join(str(v.value) for v in report_book.metadata.values())))
    leaks = [(name, value) for name, text in outputs for value in report_book.personal_values
             if value in text]
    assert leaks == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_pdf_pages_are_a4_not_blank_and_carry_the_text(report_book, language, tmp_path):
    pdf = report_book.out_dir / f"risk_report.{language}.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    # A4 is 595.28 x 841.89 pt; Chromium rounds to its CSS pixels (594.96 x 841.92)
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
    assert abs(width - 595.28) < 0.5 and abs(height - 841.89) < 0.5, info
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")],
                   check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 5
    for page in pages:
        pixels = np.asarray(Image.open(page).convert("L"))
        inked = (pixels < 200).mean()
        assert inked > 0.005, f"{page.name} is blank"
    text = _pdf_text(pdf)
    words = strings()[language]
    for heading in (words["report_title"], words["sections"][1], words["sections"][8]):
        assert heading in text
    if language == "zh-CN":
        assert "执行摘要" in text and "迁徙率" in text
