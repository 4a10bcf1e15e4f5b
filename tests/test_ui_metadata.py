"""What the Dagster UI shows: previews as tables with amounts and rates written for a reader, the
column schema from the SQL header, and real lineage for every table an asset writes."""

from pathlib import Path

import duckdb
import pandas as pd

from pipelines.defs.metadata import preview_table, table_metadata


def test_a_preview_names_the_currency_and_rounds_rates():
    frame = pd.DataFrame({
        "account_id": ["AC1", "AC2"], "currency": ["CNY", "USD"],
        "balance": [77070000.5, 1234.0], "utilisation": [0.12345678901234567, None],
        "days_past_due": [0, 31], "share_of_row_accounts": [1 / 3, 2 / 3]})
    value = preview_table(frame)
    rows = [r.data for r in value.records]
    assert rows[0]["balance"] == "77,070,000.50 CNY" and rows[1]["balance"] == "1,234.00 USD"
    assert rows[0]["utilisation"] == "0.1235" and rows[1]["utilisation"] is None
    assert rows[0]["share_of_row_accounts"] == "0.3333"
    assert rows[1]["days_past_due"] == 31
    assert [c.name for c in value.schema.columns] == list(frame.columns)


def test_column_schema_types_from_the_table_descriptions_from_the_sql_header(tmp_path):
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    conn.execute("create table cure_rates (snapshot_date date, tier varchar, contacts bigint, "
                 "cure_rate_7d double, not_in_header integer)")
    schema = table_metadata(conn, "cure_rates", "collections/cure_rates")
    conn.close()
    assert schema["dagster/table_name"] == "warehouse.main.cure_rates"
    columns = {c.name: c for c in schema["dagster/column_schema"].columns}
    assert list(columns) == ["snapshot_date", "tier", "contacts", "cure_rate_7d", "not_in_header"]
    assert columns["contacts"].type == "BIGINT" and columns["cure_rate_7d"].type == "DOUBLE"
    text = (Path(__file__).parents[1] / "sql/collections/cure_rates.sql").read_text()
    tier_line = next(line for line in text.splitlines() if line.startswith("--   tier: "))
    assert columns["tier"].description == tier_line.removeprefix("--   tier: ").strip()
    assert columns["not_in_header"].description is None


def test_credit_line_actions_read_a_real_reason_codes_asset():
    from dagster import AssetKey

    from pipelines.definitions import defs

    graph = defs().resolve_asset_graph()
    reasons = graph.get(AssetKey("account_reason_codes"))
    assert reasons.is_executable and reasons.group_name == "model"
    assert AssetKey("account_reason_codes") in graph.get(AssetKey("credit_line_actions")).parent_keys
    assert {n.group_name for n in graph.asset_nodes} == {
        "ingest", "features", "model", "collections", "report"}
    assert graph.get(AssetKey("letter_batches")).tags.get("pii") == "true"


def test_a_header_that_names_template_variables_is_read_as_written():
    from pipelines.defs.metadata import header_definitions

    text = (Path(__file__).parents[1] / "sql/collections/collection_tiers.sql").read_text()
    assert "{{" in text.split("\nwith")[0]  # the header mentions a template variable
    definitions = header_definitions("collections/collection_tiers")
    tier_line = next(line for line in text.splitlines() if line.startswith("--   tier: "))
    assert definitions["tier"] == tier_line.removeprefix("--   tier: ").strip()
