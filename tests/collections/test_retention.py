"""Personal-data files of a real night's batch (PDFs included): the owner's only, and purged by
`overdue purge --before DATE` while the manifest and the contact records stay."""

import hashlib
import json
import stat
from datetime import date

import duckdb
import pytest

from pipelines import settings
from pipelines.cli import main
from pipelines.lib.collections import tiering
from pipelines.lib.collections.batch import write_batch
from tests.collections.book import STRATEGY, customer, snapshot, warehouse

NIGHT = date(2026, 5, 3)
KEPT = ("manifest.csv", "held.csv", "summary.json", "sms_templates.json", "queue_overflow.csv")


def night_batch(home, *, pdfs: bool = True):
    """A Chinese M3 account (T3: print letter, e-mail, call) and an M1 one (SMS, e-mail)."""
    conn = warehouse([snapshot(NIGHT, 1, 75), snapshot(NIGHT, 2, 12)],
                     [customer(1, NIGHT), customer(2, NIGHT)], path=home / "warehouse.duckdb")
    tiering.build_tiers(conn, STRATEGY, NIGHT, NIGHT)
    tiering.plan_nights(conn, STRATEGY, NIGHT, NIGHT)
    summary = write_batch(conn, STRATEGY, NIGHT, settings.letters_out_dir(), write_pdfs=pdfs)
    return conn, summary


def modes(folder):
    return {p.relative_to(folder).as_posix(): stat.S_IMODE(p.stat().st_mode)
            for p in [folder, *folder.rglob("*")]}


def test_every_file_of_a_batch_is_the_owners_only(home):
    _, summary = night_batch(home)
    found = modes(summary.folder)
    assert any(name.endswith(".pdf") for name in found)
    assert any(name.endswith(".eml") for name in found)
    for name, mode in found.items():
        is_dir = (summary.folder / name).is_dir()
        assert mode == (0o700 if is_dir else 0o600), (name, oct(mode))


def test_the_file_mode_is_configurable(home, monkeypatch):
    monkeypatch.setenv("OVERDUE_PERSONAL_FILE_MODE", "0640")
    _, summary = night_batch(home, pdfs=False)
    for name, mode in modes(summary.folder).items():
        is_dir = (summary.folder / name).is_dir()
        assert mode == (0o750 if is_dir else 0o640), (name, oct(mode))
    monkeypatch.setenv("OVERDUE_PERSONAL_FILE_MODE", "0444")
    with pytest.raises(ValueError, match="OVERDUE_PERSONAL_FILE_MODE"):
        settings.personal_file_mode()


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_purge_removes_exactly_the_personal_files(home):
    conn, summary = night_batch(home)
    folder = summary.folder
    personal = sorted([*(folder / "print").rglob("*.*"), *(folder / "email").glob("*.eml"),
                       folder / "sms.jsonl", folder / "work_list.csv", folder / "work_list.xlsx"])
    assert any(p.suffix == ".pdf" for p in personal) and len(personal) >= 6
    expected = {p.relative_to(folder).as_posix(): (sha256(p), p.stat().st_size)
                for p in personal}
    kept = {name: sha256(folder / name) for name in KEPT}
    contacts = conn.execute("select count(*) from contact_history").fetchone()[0]
    assert contacts > 0
    conn.close()

    assert main(["purge", "--before", NIGHT.isoformat()]) == 0  # the night itself stays
    assert all(p.exists() for p in personal) and not (folder / "purged.json").exists()

    assert main(["purge", "--before", "2026-05-04"]) == 0
    record = json.loads((folder / "purged.json").read_text(encoding="utf-8"))
    assert {f["path"]: (f["sha256"], f["bytes"]) for f in record["files"]} == expected
    assert record["night"] == "2026-05-03" and record["before"] == "2026-05-04"
    assert record["purged_at"][:4] >= "2026"
    assert not any(p.exists() for p in personal)
    assert not (folder / "print").exists() and not (folder / "email").exists()
    assert {name: sha256(folder / name) for name in KEPT} == kept
    assert sorted(p.name for p in folder.iterdir()) == sorted([*KEPT, "purged.json"])
    assert stat.S_IMODE((folder / "purged.json").stat().st_mode) == 0o600

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as again:
        assert again.execute("select count(*) from contact_history").fetchone()[0] == contacts

    assert main(["purge", "--before", "2026-05-04"]) == 0  # nothing left: the record stays
    assert json.loads((folder / "purged.json").read_text(encoding="utf-8")) == record


def test_retention_default_is_90_days(monkeypatch):
    monkeypatch.delenv("OVERDUE_LETTER_RETENTION_DAYS", raising=False)
    assert settings.letter_retention_days() == 90
    monkeypatch.setenv("OVERDUE_LETTER_RETENTION_DAYS", "0")
    with pytest.raises(ValueError, match="OVERDUE_LETTER_RETENTION_DAYS"):
        settings.letter_retention_days()
