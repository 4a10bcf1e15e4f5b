"""Released letters are immutable: a corrected file re-landed after the night's batch was released
and the night run again (real Dagster runs over real landing files) leave the released folder
byte for byte as it was; only the letters whose content changed go out again, as new letters
referencing the ones they replace, in `<night>.r2/`; a letter the correction made no longer due
gets no new letter and is marked, never deleted.

The book is test_collections_dagster's. The correction: account 4 (T3 formal demand: print
letter, e-mail, call task) owes 1,300.00 past due, not 1,234.56; account 2 (T1: SMS, e-mail)
paid and is current.
"""

import csv
import email
import email.policy
import hashlib
import subprocess
from datetime import timedelta

import duckdb
import pytest

from pipelines import settings
from pipelines.lib.collections import tiering
from pipelines.lib.collections.batch import purge_batches, write_batch
from pipelines.lib.collections.strategy import load_strategy
from tests.collections.test_collections_dagster import NIGHT, book, delinquent, run
from tests.conftest import snapshot_row, use_home, write_night

STRATEGY = load_strategy()


def files(folder) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def contacts(home) -> dict[str, dict]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        cursor = conn.execute(
            "select contact_id, account_id, channel, status, letter_id, corrects_letter_id, "
            "superseded_by, correction_note, batch_folder, content_sha256 from contact_history "
            "where snapshot_date = ? and source = 'plan'", [NIGHT])
        names = [d[0] for d in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def manifest(folder) -> list[dict]:
    with (folder / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def corrected(tmp_path_factory):
    home = tmp_path_factory.mktemp("immutable_home")
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, home)
        snapshots, customers = book()
        earlier = NIGHT - timedelta(days=1)
        write_night(home, earlier, book(earlier)[0], customers)
        write_night(home, NIGHT, snapshots, customers)
        for night in (earlier, NIGHT):
            result = run(night)
            assert result.success, [e.message for e in result.all_events if e.is_failure]
        out = settings.letters_out_dir()
        released = files(out / str(NIGHT))
        before = contacts(home)
        fixed = [delinquent(4, 75, "1300.00") | {k: row[k] for k in ("statement_date",
                                                                     "statement_balance")}
                 if row["account_id"] == "AC00000004"
                 else snapshot_row(NIGHT, 2) | {k: row[k] for k in ("statement_date",
                                                                    "statement_balance")}
                 if row["account_id"] == "AC00000002" else row
                 for row in snapshots]
        write_night(home, NIGHT, fixed, customers)
        again = run(NIGHT)
        assert again.success, [e.message for e in again.all_events if e.is_failure]
        yield home, out, released, before, again


def test_the_released_folder_is_byte_identical_after_the_rerun(corrected):
    _, out, released, _, _ = corrected
    assert files(out / str(NIGHT)) == released
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        f"{NIGHT - timedelta(days=1)}", str(NIGHT), f"{NIGHT}.r2"]


def test_only_the_changed_letters_go_out_again_referencing_the_old_ones(corrected):
    home, out, _, before, _ = corrected
    old = {(c["account_id"], c["channel"]): c for c in before.values()}
    letter, mail = old[("AC00000004", "letter")], old[("AC00000004", "email")]
    rows = manifest(out / f"{NIGHT}.r2")
    assert sorted((r["account_id"], r["channel"], r["letter_id"], r["corrects_letter_id"])
                  for r in rows) == sorted([
        ("AC00000004", "email", mail["letter_id"] + ".R2", mail["letter_id"]),
        ("AC00000004", "letter", letter["letter_id"] + ".R2", letter["letter_id"])])
    message = email.message_from_bytes(
        (out / f"{NIGHT}.r2" / "email" / f"{mail['letter_id']}.R2.eml").read_bytes(),
        policy=email.policy.default)
    assert message["X-Letter-Replaces"] == mail["letter_id"]
    assert "1,300.00" in message.get_body(("plain",)).get_content()
    pdfs = sorted((out / f"{NIGHT}.r2" / "print").glob("*.pdf"))
    text = "".join(subprocess.run(["pdftotext", str(p), "-"], check=True, capture_output=True,
                                  text=True).stdout for p in pdfs)
    assert "本函更正并取代2026年5月3日的函件" in text and letter["letter_id"] in text
    assert "1,300.00" in text
    # the call task was on the released work list: not listed again
    with (out / f"{NIGHT}.r2" / "work_list.csv").open(encoding="utf-8-sig") as handle:
        assert list(csv.DictReader(handle)) == []

    after = contacts(home)
    for old_row in (letter, mail):
        kept = after[old_row["contact_id"]]
        assert kept["status"] == old_row["status"] == "planned"
        assert kept["content_sha256"] == old_row["content_sha256"]
        assert (kept["superseded_by"], kept["correction_note"], kept["batch_folder"]) == (
            old_row["letter_id"] + ".R2", "corrected", str(NIGHT))
        new = after[old_row["letter_id"] + ".R2"]
        assert (new["status"], new["corrects_letter_id"], new["batch_folder"]) == (
            "planned", old_row["letter_id"], f"{NIGHT}.r2")
    # unchanged letters (accounts 5, 6) are not re-sent
    assert {c["account_id"] for c in after.values() if c["corrects_letter_id"]} == {"AC00000004"}


def test_a_letter_no_longer_due_is_marked_never_deleted(corrected):
    home, out, _, before, again = corrected
    cured = {k: v for k, v in before.items() if v["account_id"] == "AC00000002"}
    assert {c["channel"] for c in cured.values()} == {"sms", "email"}
    after = contacts(home)
    for contact_id in cured:
        assert after[contact_id]["status"] == "planned"  # it was sent: status stays
        assert after[contact_id]["correction_note"] == "no_longer_due"
        assert after[contact_id]["superseded_by"] is None
    assert "AC00000002" not in {r["account_id"] for r in manifest(out / f"{NIGHT}.r2")}
    check = next(e for e in again.get_asset_check_evaluations()
                 if e.check_name == "letter_batches_templates_pass_linter")
    assert check.passed


def test_another_rerun_with_nothing_changed_sends_nothing_twice(corrected):
    """The batch step again (as the asset calls it): every message renders to its released
    bytes, so no folder is written and no contact changes."""
    home, out, _, _, _ = corrected
    before = contacts(home)
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        tiering.register_strategy(conn, STRATEGY)
        summary = write_batch(conn, STRATEGY, NIGHT, out)
    # SMS of 3, the corrections of 4 (letter, e-mail), letter and e-mail of 5, letter of 6
    assert summary.unchanged == 6 and summary.planned == 0
    assert summary.folder == out / f"{NIGHT}.r2"
    assert not (out / f"{NIGHT}.r3").exists()
    assert contacts(home) == before


def test_purge_knows_the_correction_folders(corrected):
    _, out, _, _, _ = corrected
    purged = {p["folder"] for p in purge_batches(out, NIGHT + timedelta(days=1))}
    assert {str(NIGHT), f"{NIGHT}.r2"} <= purged
    assert not (out / f"{NIGHT}.r2" / "email").exists()
    assert (out / f"{NIGHT}.r2" / "manifest.csv").exists()


def test_a_contact_history_from_before_issue_18_gains_the_correction_columns(tmp_path):
    """A warehouse built before corrections were referenced keeps its contacts, gains
    batch_folder, corrects_letter_id, superseded_by and correction_note, and writes a batch."""
    from pipelines.lib.sql import render_sql
    from tests.collections.book import customer, run_night, snapshot, warehouse

    conn = warehouse([snapshot(NIGHT, 1, 75)], [customer(1, NIGHT)])
    conn.execute(render_sql("collections/create_contact_history"))
    for column in ("batch_folder", "corrects_letter_id", "superseded_by", "correction_note"):
        conn.execute(f"alter table contact_history drop column {column}")
    summary = run_night(conn, NIGHT, tmp_path)
    assert summary.folder == tmp_path / str(NIGHT) and summary.planned == 3
    rows = conn.execute("select channel, batch_folder, corrects_letter_id, superseded_by, "
                        "correction_note from contact_history order by channel").fetchall()
    assert rows == [("email", str(NIGHT), None, None, None), ("letter", str(NIGHT), None, None,
                                                              None),
                    ("phone", str(NIGHT), None, None, None)]


@pytest.mark.parametrize(("template", "locale", "jurisdiction", "notice"), [
    ("formal_demand", "zh-CN", "CN", "本函更正并取代2026年5月3日的函件（编号 260503-ABCDEF0123），请以本函为准。"),
    ("formal_demand", "en-US", "CN", "This letter replaces letter 260503-ABCDEF0123 of May 3, 2026."),
    ("final_notice", "zh-CN", "CN", "本函更正并取代2026年5月3日的函件（编号 260503-ABCDEF0123）"),
    ("validation_notice", "en-US", "US", "This letter replaces letter 260503-ABCDEF0123 of May 3"),
])
def test_a_correction_letter_names_the_one_it_replaces_and_passes_the_linter(
        template, locale, jurisdiction, notice):
    from pipelines.lib.collections.linter import Linter
    from pipelines.lib.collections.rendering import Renderer
    from tests.collections.test_collections_golden import golden_row

    row = golden_row("letter", template, locale, jurisdiction) | {
        "letter_id": "260503-ABCDEF0123.R2", "contact_id": "260503-ABCDEF0123.R2",
        "corrects_letter_id": "260503-ABCDEF0123"}
    rendered = Renderer(STRATEGY).render(row)
    assert notice in rendered.parts["html"]
    assert Linter(STRATEGY).lint(row, rendered) is None
    original = Renderer(STRATEGY).render(golden_row("letter", template, locale, jurisdiction))
    assert "replaces letter" not in original.parts["html"]
    assert "本函更正" not in original.parts["html"]
