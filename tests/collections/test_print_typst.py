"""Print letters laid out by Typst, read back with poppler: the debtor's address inside the
envelope window of print.yaml (word boxes from `pdftotext -bbox`), the amounts and due date of
the letter's data, the Simplified-Chinese font embedded, page counts, names full of markup
characters printed as typed, and the same text as WeasyPrint prints (the fallback engine).
"""

import html as html_lib
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from pipelines import settings
from pipelines.lib.collections import pdf, pdf_typst
from pipelines.lib.collections.typst_markup import literal
from tests.collections.test_print import WORST_CASE, _letter

MM = 72 / 25.4
# every character Typst's markup gives a meaning to, with HTML's and a second script
AWKWARD_NAME = 'Zoë "Q" 欧阳-Ng & <b>x</b> #1 $5 *a* _b_ @c [d] \\e `f` ~g'
AWKWARD_STREET = "建国路#88号 [B] $*_@\\ & <i> =h"
US_NAME = 'Q. O"Neil & <b> #$*_@[d]\\'
LONG_NAME = "Maximiliana Alexandrovna Ouyang-Featherstonehaugh 欧阳娜娜"
FOOTER = re.compile(r"(?:函件编号|Reference)260503-\w+?(?:第\d+页/共\d+页|Page\d+of\d+)")
SEAL_WORDS = ("催收函件专用章", "样章·仅供演示")
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                   r"([^<]*)</word>")


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _pages(path: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", str(path)), re.MULTILINE).group(1))


def _words(path: Path, page: int) -> list[tuple[float, float, float, float, str]]:
    text = _run("pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), "-")
    return [(float(a), float(b), float(c), float(d), html_lib.unescape(w))
            for a, b, c, d, w in _WORD.findall(text)]


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _window_pt(paper: str) -> tuple[float, float, float, float]:
    """The window from print.yaml itself (not through pdf.py): left, top, right, bottom in pt."""
    raw = yaml.safe_load((settings.REPO_ROOT / "pipelines/config/print.yaml").read_text())
    window = raw["papers"][paper]["window_mm"]
    return (window["left"] * MM, window["top"] * MM, (window["left"] + window["width"]) * MM,
            (window["top"] + window["height"]) * MM)


def _engine(name: str):
    class Engine:
        def __enter__(self):
            self.before = os.environ.get("OVERDUE_PRINT_ENGINE")
            os.environ["OVERDUE_PRINT_ENGINE"] = name

        def __exit__(self, *exc):
            if self.before is None:
                os.environ.pop("OVERDUE_PRINT_ENGINE", None)
            else:
                os.environ["OVERDUE_PRINT_ENGINE"] = self.before
    return Engine()


def _letters():
    long_letter = _letter("260503-TTTTTT0002")
    extra = "".join(f"<p>{'补充说明：' * 40}</p>" for _ in range(8))
    long_letter = (long_letter[0], long_letter[1].replace("</section>", extra + "</section>"))
    return [
        _letter("260503-TTTTTT0001", full_name="张伟", region="广东省", city="深圳市",
                postal_address="南山区科技园路1号", postal_code="518057", **WORST_CASE),
        long_letter,
        _letter("260503-TTTTTT0003", full_name=AWKWARD_NAME, postal_address=AWKWARD_STREET),
        _letter("260503-TTTTTT0004", full_name=LONG_NAME),
        _letter("260503-TTTTTT0005", "validation_notice", "en-US", "US",
                full_name=US_NAME, postal_address="1200 Main St #4 [rear] $*_@\\"),
    ]


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """The same letters printed by each engine: folder and index by letter id."""
    out = {}
    for engine in ("typst", "weasyprint"):
        folder = tmp_path_factory.mktemp(engine)
        with _engine(engine):
            failed: dict = {}
            index = pdf.render_print_batches(_letters(), folder, workers=1, failed=failed)
        assert not failed, failed
        out[engine] = folder, {row["letter_id"]: row for row in index}
    return out


def _page_text(folder: Path, row: dict, offset: int = 0, *layout: str) -> str:
    page = str(row["first_page"] + offset)
    return _run("pdftotext", *layout, "-f", page, "-l", page, str(folder / row["file"]), "-")


def _inside(words, box, tolerance=0.5) -> bool:
    left, top, right, bottom = box
    return all(x0 >= left - tolerance and y0 >= top - tolerance and x1 <= right + tolerance
               and y1 <= bottom + tolerance for x0, y0, x1, y1, _ in words)


def _address_words(words, lines: list[str], box) -> list:
    """The words printed above the letter's heading that make up `lines`, checked to spell them
    out in full (in the order read)."""
    _, _, _, bottom = box
    # what overflowed the window would start within a line below it
    top_words = [w for w in words if w[1] < bottom + 3 * MM]
    found = []
    for line in lines:
        wanted = _flat(line)
        picked = [w for w in top_words if w not in found and (
            w[4] in line.split() or (len(w[4]) >= 4 and w[4] in line))]
        spelled = "".join(w[4] for w in picked)
        assert wanted in spelled, (line, spelled)
        found += picked
    return found


def test_the_address_sits_inside_the_envelope_window(printed):
    folder, index = printed["typst"]
    cases = [("260503-TTTTTT0001", "A4", ["518057", "广东省深圳市南山区科技园路1号", "张伟"]),
             ("260503-TTTTTT0004", "A4", ["100022", "北京朝阳区建国路88号", LONG_NAME]),
             ("260503-TTTTTT0005", "Letter", [US_NAME, "1200 Main St #4 [rear] $*_@\\",
                                               "Houston, TX 77002"])]
    for letter_id, paper, lines in cases:
        row = index[letter_id]
        box = _window_pt(paper)
        words = _address_words(_words(folder / row["file"], row["first_page"]), lines, box)
        assert words and _inside(words, box), (letter_id, [w for w in words
                                                           if not _inside([w], box)])
    # and a word far outside it is seen as outside: the check can fail
    row = index["260503-TTTTTT0001"]
    heading = [w for w in _words(folder / row["file"], row["first_page"])
               if w[4] == "逾期还款催收函"]
    assert heading and not _inside(heading, _window_pt("A4"))


def test_amounts_and_due_date_are_the_letters(printed):
    folder, index = printed["typst"]
    lines = [_flat(line) for line in _page_text(folder, index["260503-TTTTTT0001"], 0,
                                                "-layout").splitlines()]

    def row_of(label: str) -> str:
        (found,) = [line.removeprefix(label) for line in lines if line.startswith(label)
                    and re.fullmatch(r"¥[\d,.]+|\d{4}年\d+月\d+日", line.removeprefix(label))]
        return found

    # WORST_CASE by hand: 1,234.56 past due + the 100.00 instalment due 5 May = 1,334.56
    assert row_of("逾期金额合计") == "¥1,234.56"
    assert row_of("2026年5月5日到期的本期应还") == "¥100.00"
    assert row_of("截至2026年5月7日应还合计") == "¥1,334.56"
    assert row_of("尚未到期金额") == "¥4,197.54"
    assert row_of("欠款总额") == "¥5,432.10"
    # delivered Thursday 7 May, 10 days to pay
    assert row_of("还款截止日") == "2026年5月17日"
    assert row_of("逾期本金") == "¥1,000.00" and row_of("违约金") == "¥30.00"


def test_chinese_is_printed_in_the_embedded_simplified_chinese_font(printed):
    folder, index = printed["typst"]
    for path in sorted(folder.glob("*.pdf")):
        fonts = [line.split() for line in _run("pdffonts", str(path)).splitlines()[2:]]
        assert fonts and all(f[-5] == "yes" for f in fonts), fonts  # every font embedded
        assert any(re.search(r"CJK-?SC", f[0], re.IGNORECASE) for f in fonts), fonts
        assert not [f for f in fonts if re.search(r"CJK-?(JP|TC|HK|KR)", f[0], re.IGNORECASE)], fonts
    text = _flat(_page_text(folder, index["260503-TTTTTT0001"]))
    for words in ("逾期还款催收函", "尊敬的张伟：", "征信告知", "第1页/共1页",
                  "《中华人民共和国民法典》第六百七十五条"):
        assert words in text
    assert "\ufffd" not in text


def test_page_counts(printed):
    folder, index = printed["typst"]
    assert index["260503-TTTTTT0002"]["pages"] == 2
    assert all(index[f"260503-TTTTTT000{n}"]["pages"] == 1 for n in (1, 3, 4, 5))
    long_row = index["260503-TTTTTT0002"]
    assert "第2页/共2页" in _flat(_page_text(folder, long_row, 1))
    for path in folder.glob("*.pdf"):
        rows = [r for r in index.values() if r["file"] == path.name]
        duplex = rows[0]["jurisdiction"] == "US"
        expected = sum(r["pages"] + (r["pages"] % 2 if duplex else 0) for r in rows)
        assert _pages(path) == expected


def test_markup_characters_in_names_print_as_typed(printed):
    folder, index = printed["typst"]
    text = _flat(_page_text(folder, index["260503-TTTTTT0003"]))
    assert _flat(AWKWARD_NAME) in text and _flat(f"尊敬的{AWKWARD_NAME}：") in text
    assert _flat(AWKWARD_STREET) in text
    us = _flat(_page_text(folder, index["260503-TTTTTT0005"]))
    assert us.count(_flat(US_NAME)) == 2  # the window and the dispute form


def test_a_string_literal_escapes_only_what_ends_it():
    assert literal('a"b\\c#$*_@[]') == '"a\\"b\\\\c#$*_@[]"'


def test_both_engines_print_the_same_text(printed):
    typst_folder, typst_index = printed["typst"]
    weasy_folder, weasy_index = printed["weasyprint"]
    assert {k: v["pages"] for k, v in typst_index.items()} == {
        k: v["pages"] for k, v in weasy_index.items()}
    for letter_id, row in typst_index.items():
        texts, footers = [], []
        for folder, index in ((typst_folder, typst_index), (weasy_folder, weasy_index)):
            pages = [_flat(_page_text(folder, index[letter_id], k)) for k in range(row["pages"])]
            # where a page ends may differ; each page's footer must not
            footers.append([FOOTER.findall(page) for page in pages])
            texts.append(FOOTER.sub("", "".join(pages)))
        assert footers[0] == footers[1] and all(len(f) == 1 for f in footers[0]), footers
        # the seal's own words (its SVG text) read in among the lines it is stamped over
        seal = [[text.count(words) for words in SEAL_WORDS] for text in texts]
        assert seal[0] == seal[1], (letter_id, seal)
        for words in SEAL_WORDS:
            texts = [text.replace(words, "") for text in texts]
        assert texts[0] == texts[1], letter_id


def test_a_letter_that_breaks_the_typst_document_is_held_alone(tmp_path, monkeypatch):
    """A letter whose markup Typst rejects is left out with pdf_layout_error; the file prints."""
    good, bad = _letter("260503-TTTTTT0010"), _letter("260503-TTTTTT0011")
    source = pdf_typst.letter_source

    def broken(letter_id, *args):
        text = source(letter_id, *args)
        return text.replace("#linebreak()", "#unknown-function()", 1) \
            if letter_id == bad[0]["letter_id"] else text

    monkeypatch.setattr(pdf_typst, "letter_source", broken)
    paper = pdf.print_config().papers["A4"]
    spans, pages, failed = pdf_typst.render_pdf(
        [(good[0]["letter_id"], good[1]), (bad[0]["letter_id"], bad[1])],
        tmp_path / "letters.pdf", paper)
    assert spans == {"260503-TTTTTT0010": (1, 1)} and pages == 1
    assert failed["260503-TTTTTT0011"][0] == "pdf_layout_error"
    assert "unknown" in failed["260503-TTTTTT0011"][1]
    assert _pages(tmp_path / "letters.pdf") == 1
    assert not list(tmp_path.glob(".*.typ"))  # the source beside it is removed


def test_letters_failing_only_together_are_held_and_nothing_hangs(tmp_path):
    """Two letters of one id (which a night never has) break the document together, neither
    alone: both are held, no file is written."""
    _, html = _letter("260503-TTTTTT0012")
    paper = pdf.print_config().papers["A4"]
    spans, pages, failed = pdf_typst.render_pdf([("first", html), ("second", html)],
                                                tmp_path / "letters.pdf", paper)
    assert spans == {} and pages == 0 and not (tmp_path / "letters.pdf").exists()
    assert {k: v[0] for k, v in failed.items()} == {"first": "pdf_layout_error",
                                                    "second": "pdf_layout_error"}
