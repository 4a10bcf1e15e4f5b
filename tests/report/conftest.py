"""A simulated book run through the real nightly Dagster job once per test session, shared by the
report tests (asset, personal-data scan, PDF and browser tests).

The run materialises the ingest, features and report groups only: the model and collections
stages are left out so their sections show "not available"; test_report_sections.py adds those
tables by hand to check the sections that read them. Only some nights are landed (a lender
that skips nights), which keeps the session's backfill short and still gives two monthly
roll-rate matrices (a month-over-month change and a backtest).
"""

import csv
import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from pipelines.lib.ingest.contracts import load_contract
from pipelines.lib.report.figures import one_month_earlier
from tests.conftest import use_home
from tooling.simulator import simulate

REPORT_NIGHT = date(2026, 4, 29)  # not a month end: the nightly edition only
MONTH_END = date(2026, 3, 31)  # landed too, for the month-end edition
BOOK_DAYS = 70
BOOK_ACCOUNTS = 500


@dataclass(frozen=True)
class ReportBook:
    home: Path
    night: date
    first_night: date
    out_dir: Path
    personal_values: list[str]  # every customer's personal fields, as landed
    run_success: bool
    checks: dict  # check name -> passed
    metadata: dict


# the identifying personal fields, scanned in full; city, region and postal code are personal
# data too but too short to scan for ("NY" is inside "CNY", a postal code inside an SVG path)
SCANNED = ("full_name", "mobile_phone", "email", "postal_address", "id_number")


def personal_values(home: Path) -> list[str]:
    """Every customer's name, phone, e-mail, address (and ID number, if a lender sends one) in
    every landed customers file."""
    columns = [c for c in SCANNED if c in load_contract("customers").personal_columns
               or c == "id_number"]
    values = set()
    for path in sorted((home / "landing" / "customers").glob("*.csv")):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                values |= {row[c].strip() for c in columns if row.get(c) and len(row[c]) >= 2}
    return sorted(values)


def run_groups(first: date, last: date, groups=("ingest", "features", "report")):
    """The nightly job over first..last as one run, limited to the given groups' assets."""
    from pipelines.definitions import defs
    from pipelines.defs.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG

    definitions = defs()
    job = definitions.resolve_job_def("nightly")
    graph = definitions.resolve_asset_graph()
    keys = [key for key in graph.materializable_asset_keys
            if graph.get(key).group_name in groups]
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    instance = dg.DagsterInstance.get()
    return job.execute_in_process(
        instance=instance, asset_selection=keys, raise_on_error=False,
        tags={PARTITION_RANGE_START_TAG: first.isoformat(),
              PARTITION_RANGE_END_TAG: last.isoformat()})


def landed_nights(first: date) -> set[date]:
    """Every sixth night, plus the nights the report compares with (one and two months before
    the report night, one month before the month end): a lender that skips nights."""
    nights = {first + timedelta(days=d) for d in range((REPORT_NIGHT - first).days + 1)
              if (REPORT_NIGHT - first - timedelta(days=d)).days % 6 == 0}
    month = one_month_earlier(REPORT_NIGHT)
    return nights | {first, MONTH_END, month, one_month_earlier(month),
                     one_month_earlier(MONTH_END)}


@pytest.fixture(scope="session")
def report_book(tmp_path_factory) -> ReportBook:
    home = tmp_path_factory.mktemp("report_book")
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, home)
        patch.setenv("GX_ANALYTICS_ENABLED", "false")
        patch.delenv("OVERDUE_REPORT_LANGUAGES", raising=False)
        # great-expectations on one night of the backfill (OVERDUE_GE_BACKFILL_NIGHTS): the
        # ingest tests cover it; this session is about the report
        patch.setenv("OVERDUE_GE_BACKFILL_NIGHTS", "1")
        simulate(home, accounts=BOOK_ACCOUNTS, days=BOOK_DAYS, end_date=REPORT_NIGHT, seed=11)
        values = personal_values(home)
        first = REPORT_NIGHT - timedelta(days=BOOK_DAYS - 1)
        keep = landed_nights(first)
        for feed in ("account_snapshots", "customers", "contact_events"):
            for path in (home / "landing" / feed).glob("*.csv"):
                if date.fromisoformat(path.stem) not in keep:
                    path.unlink()
        result = run_groups(first, REPORT_NIGHT)
        checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
        materialization = [e for e in result.get_asset_materialization_events()
                           if e.asset_key == dg.AssetKey("risk_report")]
        metadata = (materialization[-1].materialization.metadata if materialization else {})
        yield ReportBook(home, REPORT_NIGHT, first,
                         home / "out" / "reports" / REPORT_NIGHT.isoformat(), values,
                         result.success, checks, metadata)
