"""Print batches as a letter shop takes them, read back from the PDFs with poppler (pdftotext,
pdfinfo, pdffonts) and hashlib: page numbers per letter, one page for the formal letters, paper
per jurisdiction, the address in the post's order inside the envelope window, the Simplified
Chinese font, web addresses never broken at a hyphen, and a job ticket that matches its files.
"""

import csv
import hashlib
import itertools
import json
import re
import subprocess
from pathlib import Path

import pytest

from pipelines.lib.collections import pdf
from pipelines.lib.collections.rendering import Renderer
from pipelines.lib.collections.strategy import load_strategy
from tests.collections.rows import contact

STRATEGY = load_strategy()
MM = 72 / 25.4
# a web address with hyphens long enough that it has to wrap, after 30 Chinese characters
LONG_URL = ("https://pay.xinghe-finance.example/overdue-accounts/repayment-plans"
            "/apply-for-a-plan-online/step-one-upload-your-documents-here")
FILLER = "如需分期还款安排请在线提交申请并上传相关材料以便我们尽快为您办理："


def _letter(letter_id: str, template="formal_demand", locale="zh-CN", jurisdiction="CN",
            **overrides) -> tuple[dict, str]:
    us = jurisdiction == "US"
    place = {"full_name": "Mary O'Brien", "postal_address": "1200 Main Street Apt 4B",
             "city": "Houston", "region": "TX", "postal_code": "77002", "currency": "USD",
             "currency_symbol": "$"} if us else {}
    row = contact("letter", template, locale, jurisdiction, letter_id=letter_id,
                  contact_id=letter_id, **(place | overrides))
    return row, Renderer(STRATEGY).render(row).parts["html"]


# the longest zh-CN formal demand: the whole breakdown and an instalment falling due by delivery
WORST_CASE = {"instalment_due_date_text": "2026年5月5日", "instalment_amount_text": "100.00",
              "amount_to_pay_text": "1,334.56"}


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _pages(path: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", str(path)), re.MULTILINE).group(1))


def _size(path: Path, page: int) -> tuple[int, int]:
    info = _run("pdfinfo", "-f", str(page), "-l", str(page), str(path))
    width, height = re.search(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info).groups()
    return round(float(width)), round(float(height))


def _text(path: Path, page: int, *crop: float) -> str:
    area = []
    if crop:
        area = ["-x", str(int(crop[0])), "-y", str(int(crop[1])), "-W", str(int(crop[2])),
                "-H", str(int(crop[3]))]
    return _run("pdftotext", "-f", str(page), "-l", str(page), *area, "-layout", str(path), "-")


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One night's print batch: two zh-CN formal demands, the first made two pages long, an
    en-US formal demand of the CN lender, a zh-CN final notice, a letter with a long web address,
    and two US letters (validation notice and final notice); rendered on two workers."""
    folder = tmp_path_factory.mktemp("print")
    long_first = _letter("260503-AAAAAA0001", **WORST_CASE)
    extra = "".join(f"<p>{'补充说明：' * 40}</p>" for _ in range(8))
    long_first = (long_first[0], long_first[1].replace("</section>", extra + "</section>"))
    url_letter = _letter("260503-CCCCCC0003")
    url_letter = (url_letter[0], url_letter[1].replace(
        "</table>", f"</table><p>{FILLER}{LONG_URL}。</p>", 1))
    letters = [
        long_first,
        _letter("260503-BBBBBB0002", full_name="张伟", region="广东省", city="深圳市",
                postal_address="南山区科技园路1号", postal_code="518057"),
        url_letter,
        _letter("260503-DDDDDD0004", "final_notice"),
        _letter("260503-EEEEEE0005", locale="en-US"),
        _letter("260503-FFFFFF0006", "validation_notice", "en-US", "US"),
        _letter("260503-GGGGGG0007", "final_notice", "en-US", "US"),
    ]
    index = pdf.render_print_batches(letters, folder, workers=2)
    return folder, {row["letter_id"]: row for row in index}


@pytest.fixture(scope="module")
def worst_case(tmp_path_factory):
    """The zh-CN formal demand with the longest table, alone in its file."""
    folder = tmp_path_factory.mktemp("worst")
    pdf.render_print_batches([_letter("260503-ZZZZZZ0009", **WORST_CASE)], folder, workers=1)
    return folder / "letters-001.pdf"


def test_page_numbers_count_within_each_letter(batch):
    folder, index = batch
    first, second = index["260503-AAAAAA0001"], index["260503-BBBBBB0002"]
    assert first["file"] == second["file"] and first["pages"] == 2
    path = folder / first["file"]
    assert first["first_page"] == 1 and second["first_page"] > 3  # after the long one
    pages = [_flat(_text(path, first["first_page"] + k)) for k in range(2)]
    assert "第1页/共2页" in pages[0] and "第2页/共2页" in pages[1]
    # a later customer's letter is numbered on its own: 1 of 1, not 4 of 5
    later = _flat(_text(path, second["first_page"]))
    assert "第1页/共1页" in later and "260503-BBBBBB0002" in later
    assert f"第{second['first_page']}页" not in later
    english = index["260503-EEEEEE0005"]
    assert "Page1of1" in _flat(_text(folder / english["file"], english["first_page"]))
    us = index["260503-GGGGGG0007"]
    assert "Page1of1" in _flat(_text(folder / us["file"], us["first_page"]))


def test_zh_formal_demand_with_the_whole_breakdown_is_one_page(worst_case):
    assert _pages(worst_case) == 1
    text = _flat(_text(worst_case, 1))
    for needed in ("逾期本金", "罚息", "违约金", "100.00", "1,334.56", "征信告知", "第1页/共1页"):
        assert needed in text


def test_english_letters_are_one_page_each(batch):
    _, index = batch
    for letter_id in ("260503-EEEEEE0005", "260503-FFFFFF0006", "260503-GGGGGG0007"):
        assert index[letter_id]["pages"] == 1, letter_id


def test_paper_follows_the_jurisdiction_and_files_do_not_mix_papers(batch):
    folder, index = batch
    sizes = {}
    for row in index.values():
        path = folder / row["file"]
        for page in range(1, _pages(path) + 1):
            sizes.setdefault(row["jurisdiction"], set()).add(_size(path, page))
    assert sizes == {"CN": {(595, 842)}, "US": {(612, 792)}}
    us_files = {r["file"] for r in index.values() if r["jurisdiction"] == "US"}
    cn_files = {r["file"] for r in index.values() if r["jurisdiction"] == "CN"}
    assert not us_files & cn_files


def test_duplex_letters_start_on_a_new_sheet(batch):
    folder, index = batch
    validation, final = index["260503-FFFFFF0006"], index["260503-GGGGGG0007"]
    assert validation["file"] == final["file"]
    path = folder / validation["file"]
    assert _pages(path) == 4  # two one-page letters, each with a blank back
    assert {validation["first_page"], final["first_page"]} == {1, 3}
    assert _flat(_text(path, 2)) == "" and _flat(_text(path, 4)) == ""


def test_us_dispute_form_is_whole_on_one_page(batch):
    folder, index = batch
    row = index["260503-FFFFFF0006"]
    text = _flat(_text(folder / row["file"], row["first_page"]))
    assert "Howdoyouwanttorespond?" in text and "Ienclosedthisamount" in text


def test_job_ticket_matches_the_files(batch):
    folder, index = batch
    ticket = json.loads((folder / "job_ticket.json").read_text(encoding="utf-8"))
    files = sorted(p.name for p in folder.glob("*.pdf"))
    assert sorted(f["file"] for f in ticket["files"]) == files
    papers = {(595, 842): "A4", (612, 792): "Letter"}
    for entry in ticket["files"]:
        path = folder / entry["file"]
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry["pages"] == _pages(path)
        assert entry["letters"] == sum(r["file"] == entry["file"] for r in index.values())
        assert entry["sheets"] == (entry["pages"] // 2 if entry["duplex"] else entry["pages"])
        assert entry["paper"] == papers[_size(path, 1)]
        assert entry["envelope"] and entry["postage_class"] and entry["return_address"]
    by_file = {e["file"]: e for e in ticket["files"]}
    us = by_file[index["260503-FFFFFF0006"]["file"]]
    assert (us["paper"], us["duplex"], us["envelope"]) == ("Letter", True, "#10")
    assert us["return_address"] == ("Galaxy Consumer Finance LLC, 100 Market Street, Suite 400, "
                                    "San Francisco, CA 94105")
    final = by_file[index["260503-DDDDDD0004"]["file"]]
    assert "挂号信" in final["postage_class"]
    assert final["file"] != index["260503-BBBBBB0002"]["file"]  # registered mail apart
    assert ticket["totals"] == {
        "files": len(files), "letters": len(index),
        "pages": sum(_pages(folder / f) for f in files),
        "sheets": sum(e["sheets"] for e in ticket["files"]),
        "sheets_by_paper": {"A4": sum(e["sheets"] for e in ticket["files"] if e["paper"] == "A4"),
                            "Letter": us["sheets"]}}
    with (folder / "job_ticket.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["file"] for r in rows] == [e["file"] for e in ticket["files"]] + ["total"]
    for row, entry in zip(rows, ticket["files"], strict=False):
        assert row["sha256"] == entry["sha256"] and int(row["pages"]) == entry["pages"]
        assert row["duplex"] == ("yes" if entry["duplex"] else "no")
    assert int(rows[-1]["pages"]) == ticket["totals"]["pages"]
    assert int(rows[-1]["letters"]) == len(index)


def test_address_reads_in_the_posts_order_inside_the_envelope_window(batch):
    folder, index = batch
    window = pdf.print_config().papers["A4"].window_mm
    crop = (window["left"] * MM, window["top"] * MM, window["width"] * MM, window["height"] * MM)
    row = index["260503-BBBBBB0002"]
    lines = [line.strip() for line in _text(folder / row["file"], row["first_page"], *crop)
             .splitlines() if line.strip()]
    assert lines[-3:] == ["518057", "广东省深圳市南山区科技园路1号", "张伟"]
    row = index["260503-CCCCCC0003"]  # 北京 is both city and region: named once
    lines = [line.strip() for line in _text(folder / row["file"], row["first_page"], *crop)
             .splitlines() if line.strip()]
    assert lines[-3:] == ["100022", "北京朝阳区建国路88号", "欧阳娜娜"]
    letter = pdf.print_config().papers["Letter"].window_mm
    crop = (letter["left"] * MM, letter["top"] * MM, letter["width"] * MM, letter["height"] * MM)
    row = index["260503-FFFFFF0006"]
    lines = [line.strip() for line in _text(folder / row["file"], row["first_page"], *crop)
             .splitlines() if line.strip()]
    assert lines[-3:] == ["Mary O'Brien", "1200 Main Street Apt 4B", "Houston, TX 77002"]


def test_chinese_prints_in_the_simplified_chinese_font(batch):
    folder, _ = batch
    for path in folder.glob("*.pdf"):
        fonts = [line.split()[0] for line in _run("pdffonts", str(path)).splitlines()[2:]]
        # WeasyPrint names the font by its family (Noto-Serif-CJK-SC), Typst by its PostScript
        # name (NotoSerifCJKsc-Regular)
        assert any(re.search(r"CJK-?SC", name, re.IGNORECASE) for name in fonts), (path.name,
                                                                                  fonts)
        assert not [name for name in fonts
                    if re.search(r"CJK-?(JP|TC|HK|KR)", name, re.IGNORECASE)], fonts


def _url_pieces(url: str, lines: list[str]) -> list[list[str]]:
    """Each place `url` is printed, as the pieces it is cut into by line ends."""
    joined, ends, total = "", [], 0
    for line in lines:
        joined += line
        total += len(line)
        ends.append(total)
    found = []
    for match in re.finditer(re.escape(url), joined):
        cuts = [end for end in ends if match.start() < end < match.end()]
        bounds = [match.start(), *cuts, match.end()]
        found.append([joined[a:b] for a, b in itertools.pairwise(bounds)])
    return found


def test_web_addresses_are_never_broken_at_a_hyphen(batch):
    folder, index = batch
    lender_urls = set()
    for code in ("CN", "US"):
        for locale in ("zh-CN", "en-US"):
            text = json.dumps(STRATEGY.jurisdiction(code).lender_for(locale), ensure_ascii=False)
            lender_urls |= set(re.findall(r"(?:https?://|www\.)[A-Za-z0-9./-]*[A-Za-z0-9]", text))
    assert any("-" in url for url in lender_urls)
    seen = 0
    for row in index.values():
        last = row["first_page"] + row["pages"] - 1
        lines = [line.strip() for line in _run(
            "pdftotext", "-f", str(row["first_page"]), "-l", str(last),
            str(folder / row["file"]), "-").splitlines()]
        for url in [*lender_urls, LONG_URL]:
            for pieces in _url_pieces(url, lines):
                seen += 1
                host = url.split("//")[-1].split("/")[0]
                assert host in pieces[0], (row["letter_id"], pieces)
                assert all(piece.startswith("/") for piece in pieces[1:]), (row["letter_id"],
                                                                             pieces)
    assert seen >= len(index)
    row = index["260503-CCCCCC0003"]
    lines = [line.strip() for line in _run(
        "pdftotext", "-f", str(row["first_page"]), "-l", str(row["first_page"] + row["pages"] - 1),
        str(folder / row["file"]), "-").splitlines()]
    (pieces,) = _url_pieces(LONG_URL, lines)
    assert len(pieces) > 1  # it had to wrap, and did only before a "/" (checked above)


def test_print_config_errors_name_the_key(tmp_path):
    bad = tmp_path / "print.yaml"
    text = pdf.PRINT_CONFIG.read_text(encoding="utf-8").replace("paper: Letter", "paper: Legal")
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(pdf.PrintConfigError, match="jurisdictions.US.paper"):
        pdf.print_config(bad)
    bad.write_text(text.replace("paper: Legal", "paper: Letter").replace(
        "duplex: true", "duplex: sometimes"), encoding="utf-8")
    with pytest.raises(pdf.PrintConfigError, match="jurisdictions.US.duplex"):
        pdf.print_config(bad)
