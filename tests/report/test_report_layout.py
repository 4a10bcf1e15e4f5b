"""Every report page at A4 print width in Chromium, both languages, both editions: nothing sticks
out of its section or the page, and no zh-CN page shows a raw key. The PDFs too: every word
WeasyPrint printed lies inside the page's margins (word boxes from `pdftotext -bbox`).

The book: the session's simulated book (tests/report/conftest.py), with the model and
collections tables of test_report_sections.py added for its month-end night, so that every
section has content and both editions are written.
"""

import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.report.render import build_report, strings
from tests.report.conftest import MONTH_END
from tests.report.test_report_browser import CHROMIUM, CHROMIUM_ARGS
from tests.report.test_report_sections import add_model_and_collections

pytestmark = pytest.mark.slow

A4_WIDTH_MM, PAGE_MARGIN_MM = 210, 14  # report.css: @page { size: A4; margin: ... 14mm ... 14mm }
PRINT_WIDTH_PX = round((A4_WIDTH_MM - 2 * PAGE_MARGIN_MM) / 25.4 * 96)  # 688 CSS px
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

# the outermost elements whose right edge passes their section's (or the page's)
OVERFLOW_JS = """() => {
    const page = document.documentElement.clientWidth;
    const out = [];
    const sticksOut = el => {
        const box = el.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) return false;
        const section = el.closest('section, header');
        const limit = section && section !== el
            ? Math.min(section.getBoundingClientRect().right, page) : page;
        return box.right > limit + 0.5 || box.left < -0.5
            || (el.scrollWidth > el.clientWidth + 1
                && getComputedStyle(el).overflowX !== 'visible');
    };
    for (const el of document.body.querySelectorAll('*')) {
        if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
        if (!sticksOut(el) || (el.parentElement && sticksOut(el.parentElement))) continue;
        const section = el.closest('section, header');
        const table = el.closest('table');
        out.push({section: section ? (section.id || 'cover') : 'body',
                  element: el.tagName.toLowerCase(),
                  table: table ? [...table.querySelectorAll('th')].map(t => t.innerText) : null,
                  right: Math.round(el.getBoundingClientRect().right), page,
                  text: el.innerText ? el.innerText.slice(0, 60) : ''});
    }
    if (document.documentElement.scrollWidth > page + 1)
        out.push({section: 'document', element: 'html',
                  right: document.documentElement.scrollWidth, page});
    return out;
}"""

# text the reader sees: every rendered text node (HTML and the charts' SVG <text>), not the SVG
# metadata, styles or titles
VISIBLE_TEXT_JS = """() => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const parts = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement;
        if (!el || el.closest('style, script, title, metadata')) continue;
        if (el.getClientRects().length === 0) continue;
        parts.push(node.textContent);
    }
    return parts.join('\\n');
}"""


def string_keys(tree, found=None) -> set[str]:
    """Every key of strings.yaml (any depth) that reads like a lower-case identifier."""
    found = set() if found is None else found
    for key, value in tree.items():
        key = str(key)
        if re.fullmatch(r"[a-z][a-z0-9_]{2,}", key):
            found.add(key)
        if isinstance(value, dict):
            string_keys(value, found)
    return found


def untranslated(text: str, keys: set[str]) -> list[str]:
    """Tokens of a zh-CN page that are raw keys: snake_case identifiers, or a strings.yaml key."""
    return sorted({w for w in WORD.findall(text) if SNAKE_CASE.fullmatch(w) or w in keys})


def overflowing(browser, html: Path) -> list[dict]:
    page = browser.new_page(viewport={"width": PRINT_WIDTH_PX, "height": 1100})
    try:
        page.emulate_media(media="print")
        page.goto(html.as_uri())
        return page.evaluate(OVERFLOW_JS)
    finally:
        page.close()


def visible_text(browser, html: Path) -> str:
    page = browser.new_page(viewport={"width": PRINT_WIDTH_PX, "height": 1100})
    try:
        page.emulate_media(media="print")
        page.goto(html.as_uri())
        return page.evaluate(VISIBLE_TEXT_JS)
    finally:
        page.close()


def pdf_words_outside_margins(pdf: Path, tolerance_pt: float = 1.0) -> list[tuple]:
    """(page, word, x min, x max) of every word outside the page's left/right margins."""
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    margin = PAGE_MARGIN_MM / 25.4 * 72
    outside = []
    for number, page in enumerate(bbox.split("<page ")[1:], start=1):
        width = float(re.search(r'width="([\d.]+)"', page).group(1))
        for x_min, x_max, word in re.findall(
                r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)<',
                page):
            if float(x_min) < margin - tolerance_pt or float(x_max) > width - margin + tolerance_pt:
                outside.append((number, word, round(float(x_min)), round(float(x_max))))
    return outside


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def every_page(report_book, tmp_path_factory):
    """The month-end night's report, both languages and editions, HTML and PDF, with every
    section filled."""
    work = tmp_path_factory.mktemp("layout")
    shutil.copy(report_book.home / "warehouse.duckdb", work / "warehouse.duckdb")
    with duckdb.connect(str(work / "warehouse.duckdb")) as conn:
        add_model_and_collections(conn, MONTH_END)
        # a feature the model really has (the fixture's made-up one has no words)
        conn.execute("update model_monitoring set subject = 'utilisation' "
                     "where subject = 'utilisation_feature_x'")
        result = build_report(conn, MONTH_END, work / "out", languages=("zh-CN", "en"))
    assert {(f.edition, f.language) for f in result.files} == {
        (e, lang) for e in ("nightly", "month-end") for lang in ("zh-CN", "en")}
    return result.files


def test_both_languages_have_the_same_words():
    words = strings()

    def shape(tree):
        return {k: shape(v) if isinstance(v, dict) else None for k, v in tree.items()}
    assert shape(words["zh-CN"]) == shape(words["en"])


def test_every_assumption_has_a_label_in_both_languages():
    import yaml

    from pipelines.lib.report.render import TEMPLATE_DIR

    assumptions = yaml.safe_load((TEMPLATE_DIR / "assumptions.yaml").read_text(encoding="utf-8"))
    for language in ("zh-CN", "en"):
        assert set(assumptions) <= set(strings()[language]["assumption_labels"]), language


def test_untranslated_tokens_are_caught():
    keys = string_keys(strings()["zh-CN"])
    assert untranslated("阶段 stage_2_from_bucket / M1，状态 act，样本 matured，AUC 0.95", keys) == [
        "act", "matured", "stage_2_from_bucket"]
    assert untranslated("第二阶段起始逾期阶段 M1，状态 需处理，AUC 0.95，v0002，+0.22 pp", keys) == []


@pytest.mark.parametrize("language", ("zh-CN", "en"))
@pytest.mark.parametrize("edition", ("nightly", "month-end"))
def test_no_element_sticks_out_of_an_a4_page(every_page, browser, language, edition):
    (files,) = [f for f in every_page if (f.edition, f.language) == (edition, language)]
    assert overflowing(browser, files.html) == []


@pytest.mark.parametrize("language", ("zh-CN", "en"))
@pytest.mark.parametrize("edition", ("nightly", "month-end"))
def test_every_pdf_word_lies_inside_the_margins(every_page, language, edition):
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext missing: apt-get install poppler-utils")
    (files,) = [f for f in every_page if (f.edition, f.language) == (edition, language)]
    assert files.pdf_pages > 0
    assert pdf_words_outside_margins(files.pdf) == []


@pytest.mark.parametrize("edition", ("nightly", "month-end"))
def test_no_zh_cn_page_shows_a_raw_key(every_page, browser, edition):
    (files,) = [f for f in every_page if (f.edition, f.language) == (edition, "zh-CN")]
    text = visible_text(browser, files.html)
    assert len(text) > 2000
    assert untranslated(text, string_keys(strings()["zh-CN"])) == []
