"""A backfill's partitions each show their own night in the UI, not the range's last night."""

import csv
import hashlib
from datetime import timedelta

from pipelines.cli import run_nights
from tests.conftest import NIGHT, snapshot_row, write_night


def partition_metadata(key: str, night) -> dict:
    """The latest materialization of one partition, as the UI's partition page shows it."""
    from dagster import AssetKey, AssetRecordsFilter, DagsterInstance

    records = DagsterInstance.get().fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey(key), asset_partitions=[night.isoformat()]),
        limit=1).records
    assert records, f"no materialization of {key} for {night}"
    metadata = records[0].asset_materialization.metadata
    return {k: getattr(v, "value", v) for k, v in metadata.items()}


def file_rows(path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def test_each_night_of_a_backfill_carries_its_own_file_and_rows(home):
    first, second, third = NIGHT - timedelta(days=2), NIGHT - timedelta(days=1), NIGHT
    first_file = write_night(home, first, [snapshot_row(first, number=n) for n in range(1, 4)])
    # five rows on the second night, one of them breaking a rule (quarantined, not loaded)
    second_file = write_night(home, second, [snapshot_row(second, number=n) for n in range(1, 5)]
                              + [snapshot_row(second, number=9, credit_limit="-1")])
    # no account_snapshots file on the third night: its partition says so
    write_night(home, third, [snapshot_row(third, number=1)])
    (home / "landing" / "account_snapshots" / f"{third}.csv").unlink()
    run_nights(first, third, ["ingest"])

    sha = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in (first_file, second_file)}
    assert (file_rows(first_file), file_rows(second_file)) == (3, 5)
    one = partition_metadata("account_snapshots", first)
    two = partition_metadata("account_snapshots", second)
    three = partition_metadata("account_snapshots", third)
    assert (one["dagster/row_count"], one["rows_read"], one["rows_quarantined"]) == (3, 3, 0)
    assert (two["dagster/row_count"], two["rows_read"], two["rows_quarantined"]) == (4, 5, 1)
    assert one["file_sha256"] == sha[first_file] and two["file_sha256"] == sha[second_file]
    assert one["source_file"].endswith(f"{first}.csv")
    assert two["source_file"].endswith(f"{second}.csv")
    assert "credit_limit_minimum" in two["quarantined_by_rule"]
    assert one["quarantined_by_rule"] == "none"
    assert (three["status"], three["dagster/row_count"], three["file_sha256"]) == ("no file", 0, "")
    for metadata in (one, two, three):
        assert metadata["run_nights"] == f"{first} .. {third} (3 nights, one run)"
        assert metadata["run_rows_loaded"] == 7

    # customers: one file per night, each with its own holders
    customers = partition_metadata("customers", second)
    assert customers["dagster/row_count"] == 5
    customers_file = home / "landing" / "customers" / f"{second}.csv"
    assert customers["file_sha256"] == hashlib.sha256(customers_file.read_bytes()).hexdigest()


def test_one_materialization_per_night_not_two(home):
    from dagster import AssetKey, DagsterInstance

    nights = [NIGHT - timedelta(days=1), NIGHT]
    for night in nights:
        write_night(home, night, [snapshot_row(night, number=1)])
    run_nights(nights[0], nights[-1], ["ingest"])
    records = DagsterInstance.get().fetch_materializations(AssetKey("account_snapshots"),
                                                           limit=10).records
    assert sorted(r.partition_key for r in records) == [n.isoformat() for n in nights]


def test_the_ui_gets_the_tables_schema_and_the_runs_quarantine(home):
    """Column schema (warehouse types, contract descriptions), table name, the night on each
    check result, a `pii` tag on the personal feed, and a run with quarantined rows tagged."""
    from dagster import AssetKey, DagsterInstance

    from pipelines.definitions import defs

    write_night(home, NIGHT, [snapshot_row(number=1), snapshot_row(number=2, credit_limit="-1")])
    run_nights(NIGHT, NIGHT, ["ingest"])
    metadata = partition_metadata("account_snapshots", NIGHT)
    assert metadata["dagster/table_name"] == "warehouse.main.account_snapshots"
    columns = {c.name: c for c in metadata["dagster/column_schema"].columns}
    assert columns["balance"].type == "DECIMAL(18,2)"
    assert columns["balance"].description == "Total outstanding balance."
    assert columns["snapshot_date"].type == "DATE"
    assert columns["source_row"].description == "the row's 1-based data row in that file"
    customers = {c.name: c for c in partition_metadata(
        "customers", NIGHT)["dagster/column_schema"].columns}
    assert customers["full_name"].description.endswith("(personal data)")

    instance = DagsterInstance.get()
    (run,) = instance.get_runs()
    assert run.tags["overdue/quarantined_account_snapshots"] == "1 rows"
    assert run.tags["overdue/warning_account_snapshots_contract"] == str(NIGHT)
    assert "overdue/quarantined_customers" not in run.tags
    checks = {c.check_name: c for c in _check_evaluations(instance)}
    assert checks["account_snapshots_contract"].metadata["nights"].value == str(NIGHT)
    assert checks["account_snapshots_rows_reconcile"].metadata["nights"].value == str(NIGHT)

    graph = defs().resolve_asset_graph()
    assert graph.get(AssetKey("customers")).tags.get("pii") == "true"
    assert "pii" not in graph.get(AssetKey("account_snapshots")).tags


def _check_evaluations(instance):
    from dagster import DagsterEventType, EventRecordsFilter

    return [r.event_log_entry.dagster_event.event_specific_data for r in instance.get_event_records(
        EventRecordsFilter(event_type=DagsterEventType.ASSET_CHECK_EVALUATION))]
