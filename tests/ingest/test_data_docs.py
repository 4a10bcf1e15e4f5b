"""The nightly validations as great-expectations Data Docs: published, linked, never personal."""

from pipelines.cli import run_nights
from tests.conftest import NIGHT, customer_row, snapshot_row, write_night

PERSONAL = ("13800138000", "not-an-email", "欧阳娜娜", "建国路")


def test_validations_are_published_without_personal_data(home):
    from dagster import DagsterEventType, DagsterInstance, EventRecordsFilter

    write_night(home, NIGHT, [snapshot_row(number=1), snapshot_row(number=2, credit_limit="-1"),
                              snapshot_row(number=3, next_due_date="2026-02-30")],
                [customer_row(1), customer_row(2, mobile_phone="13800138000"),
                 customer_row(3, email="not-an-email")])
    run_nights(NIGHT, NIGHT, ["ingest"])

    docs = home / "out" / "data_docs"
    index = docs / "index.html"
    assert index.is_file()
    pages = {p.stem: p for p in docs.glob("validations/**/*.html")}
    assert {f"account_snapshots-{NIGHT}", f"customers-{NIGHT}"} <= set(pages)
    snapshots = pages[f"account_snapshots-{NIGHT}"].read_text(encoding="utf-8")
    assert "credit_limit" in snapshots and ">-1<" in snapshots.replace(" ", "")
    everything = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                           for p in [*docs.rglob("*.html"), *docs.rglob("*.json"),
                                     *(home / "great_expectations").rglob("*.json")])
    for personal in PERSONAL:
        assert personal not in everything
    for python_repr in ("np.float64", "NaT", "Timestamp("):
        assert python_repr not in everything

    checks = {}
    for record in DagsterInstance.get().get_event_records(
            EventRecordsFilter(event_type=DagsterEventType.ASSET_CHECK_EVALUATION)):
        data = record.event_log_entry.dagster_event.event_specific_data
        checks[data.check_name] = data.metadata
    assert checks["customers_contract"]["data_docs"].value == str(index)
    assert f"customers-{NIGHT}.html" in checks["customers_contract"]["data_docs_pages"].value
    assert "np.float64" not in checks["account_snapshots_contract"]["results"].value


def test_a_copied_home_publishes_into_its_own_out(tmp_path):
    """The GE context file stores the site's absolute folder; a home copied elsewhere (a restore,
    the chaos trials) must not publish into the old home's out/."""
    import shutil

    from pipelines.lib.ingest.data_docs import SITE, _context

    first = tmp_path / "first"
    _context(first)
    moved = tmp_path / "moved"
    shutil.copytree(first, moved)
    site = _context(moved).get_config().data_docs_sites[SITE]
    assert site["store_backend"]["base_directory"] == str(moved / "out" / "data_docs")
