"""The contract's rules, row by row, in both engines (DuckDB SQL and great-expectations)."""

from datetime import date

import duckdb
import pytest

from pipelines.lib.ingest.contracts import ContractError, load_contract, parse_contract
from pipelines.lib.ingest.ge_suite import validate_with_ge
from pipelines.lib.ingest.landing import FileRejected, read_landing_file
from pipelines.lib.ingest.row_checks import flagged_rows_by_rule, run_row_checks
from tests.conftest import (
    CUSTOMER_COLUMNS,
    NIGHT,
    SNAPSHOT_COLUMNS,
    customer_row,
    snapshot_row,
    write_csv,
)

# (defect, overrides on a clean row, the one rule it must break)
SNAPSHOT_DEFECTS = [
    ("empty key", {"account_id": ""}, {"account_id_required"}),
    ("blank key", {"account_id": "   "}, {"account_id_required"}),
    ("text in an amount", {"credit_limit": "abc"}, {"credit_limit_type"}),
    ("decimal comma", {"balance": "2500,50", "past_due_amount": "0"}, {"balance_type"}),
    ("three decimals", {"payment_amount": "1.005"}, {"payment_amount_type"}),
    ("impossible date", {"next_due_date": "2026-02-30"}, {"next_due_date_type"}),
    ("month 13", {"open_date": "2025-13-01"}, {"open_date_type"}),
    ("slash date", {"last_payment_date": "18/04/2026"}, {"last_payment_date_type"}),
    ("fractional DPD", {"days_past_due": "1.5", "past_due_amount": "10.00"}, {"days_past_due_type"}),
    ("negative limit", {"credit_limit": "-1.00"}, {"credit_limit_minimum"}),
    ("negative payment", {"payment_amount": "-20.00"}, {"payment_amount_minimum"}),
    ("negative DPD", {"days_past_due": "-3"}, {"days_past_due_minimum"}),
    ("past due above balance", {"past_due_amount": "3000.00", "days_past_due": "12"},
     {"past_due_amount_not_above_balance"}),
    ("DPD without past due", {"days_past_due": "5"}, {"days_past_due_zero_when_nothing_past_due"}),
    ("past due without DPD", {"past_due_amount": "100.00"}, {"days_past_due_positive_when_past_due"}),
    ("opened tomorrow", {"open_date": "2026-05-04"}, {"open_date_not_after_snapshot_date"}),
    ("paid tomorrow", {"last_payment_date": "2026-05-04"}, {"last_payment_date_not_after_snapshot_date"}),
    ("unknown status", {"status": "active"}, {"status_valid_values"}),
    ("status in capitals", {"status": "OPEN"}, {"status_valid_values"}),
    ("RMB is not ISO 4217", {"currency": "RMB"}, {"currency_valid_values"}),
    ("other night's row", {"snapshot_date": "2026-05-02"}, {"snapshot_date_equals_file_date"}),
    ("missing product", {"product": ""}, {"product_required"}),
]


def _check_file(tmp_path, rows, feed="account_snapshots", columns=None):
    contract = load_contract(feed)
    path = write_csv(tmp_path / "landing" / feed / f"{NIGHT}.csv", rows, columns)
    landed = read_landing_file(path, contract)
    conn = duckdb.connect()
    run_row_checks(conn, contract, landed)
    return contract, landed, flagged_rows_by_rule(conn)


@pytest.mark.parametrize(("defect", "overrides", "rules"), SNAPSHOT_DEFECTS,
                         ids=[d[0] for d in SNAPSHOT_DEFECTS])
def test_each_snapshot_defect_breaks_exactly_its_rule(tmp_path, defect, overrides, rules):
    rows = [snapshot_row(number=1), snapshot_row(number=2, **overrides), snapshot_row(number=3)]
    _, _, flagged = _check_file(tmp_path, rows, columns=SNAPSHOT_COLUMNS)
    assert set(flagged) == rules
    assert all(numbers == {2} for numbers in flagged.values())


def test_duplicate_key_flags_every_copy(tmp_path):
    rows = [snapshot_row(number=1), snapshot_row(number=2), snapshot_row(number=1)]
    _, _, flagged = _check_file(tmp_path, rows, columns=SNAPSHOT_COLUMNS)
    assert flagged == {"account_id_unique": {1, 3}}


def test_clean_delinquent_and_closed_rows_pass(tmp_path):
    rows = [
        snapshot_row(number=1),
        snapshot_row(number=2, past_due_amount="250.00", days_past_due="45"),
        snapshot_row(number=3, status="closed", balance="0.00", amount_due="0.00",
                     next_due_date="", last_payment_date=""),
        snapshot_row(number=4, status="charged_off", past_due_amount="2500.50",
                     days_past_due="190", currency="USD", credit_limit="0"),
        snapshot_row(number=5, balance="9999999999999999.99", credit_limit="+5"),
    ]
    _, landed, flagged = _check_file(tmp_path, rows, columns=SNAPSHOT_COLUMNS)
    assert flagged == {}
    assert landed.rows_read == 5


CUSTOMER_DEFECTS = [
    ("phone without plus", {"mobile_phone": "13800138000"}, {"mobile_phone_pattern"}),
    ("phone with spaces", {"mobile_phone": "+86 138 0013 8000"}, {"mobile_phone_pattern"}),
    ("mail without domain", {"email": "nana@"}, {"email_pattern"}),
    ("country name", {"country": "China"}, {"country_pattern"}),
    ("language", {"preferred_language": "zh"}, {"preferred_language_valid_values"}),
    ("time zone", {"timezone": "Beijing"}, {"timezone_valid_values"}),
    ("no name", {"full_name": ""}, {"full_name_required"}),
]


@pytest.mark.parametrize(("defect", "overrides", "rules"), CUSTOMER_DEFECTS,
                         ids=[d[0] for d in CUSTOMER_DEFECTS])
def test_each_customer_defect_breaks_exactly_its_rule(tmp_path, defect, overrides, rules):
    rows = [customer_row(1), customer_row(2, **overrides)]
    _, _, flagged = _check_file(tmp_path, rows, feed="customers", columns=CUSTOMER_COLUMNS)
    assert flagged == {rule: {2} for rule in rules}


def test_awkward_customers_pass(tmp_path):
    rows = [
        customer_row(1, full_name="阿卜杜·热合曼", timezone="Asia/Urumqi", mobile_phone=""),
        customer_row(2, full_name="O'Brien-Smith, Jr.", postal_address='1 "Main" St\nApt 2',
                     country="US", preferred_language="en-US", timezone="America/New_York",
                     mobile_phone="+12025550123", email=""),
        customer_row(3, full_name="José Núñez 𠀀"),
    ]
    _, landed, flagged = _check_file(tmp_path, rows, feed="customers", columns=CUSTOMER_COLUMNS)
    assert flagged == {}
    assert landed.table["postal_address"][1].as_py() == '1 "Main" St\nApt 2'


def test_sql_and_great_expectations_flag_the_same_rows(tmp_path):
    """Both engines over one file holding every defect of the corpus (plus clean rows)."""
    rows = [snapshot_row(number=100)]
    for number, (_, overrides, _) in enumerate(SNAPSHOT_DEFECTS, start=1):
        rows.append(snapshot_row(number=number, **overrides))
    rows += [snapshot_row(number=1), snapshot_row(number=200)]  # a duplicate key too
    contract, landed, flagged = _check_file(tmp_path, rows, columns=SNAPSHOT_COLUMNS)
    outcomes = validate_with_ge(landed.table, contract, NIGHT, complete=True)
    by_ge = {o.rule: o.row_numbers for o in outcomes if o.row_numbers}
    assert by_ge == flagged
    assert len(flagged) >= len({r for _, _, rules in SNAPSHOT_DEFECTS for r in rules})


def test_great_expectations_keeps_personal_values_out_of_its_results(tmp_path):
    rows = [customer_row(1), customer_row(2, mobile_phone="13800138000")]
    contract, landed, _ = _check_file(tmp_path, rows, feed="customers", columns=CUSTOMER_COLUMNS)
    outcomes = validate_with_ge(landed.table, contract, NIGHT)
    failing = [o for o in outcomes if not o.success]
    assert [o.rule for o in failing] == ["mobile_phone_pattern"]
    assert failing[0].observed_value is None
    assert failing[0].sample_rows == [2]


FILE_DEFECTS = [
    ("empty", lambda p: p.write_bytes(b""), "file_empty"),
    ("gbk", lambda p: p.write_bytes(p.read_text(encoding="utf-8").replace("revolving", "循环")
                                    .encode("gbk")), "file_encoding"),
    ("missing column", lambda p: p.write_text(
        "\n".join(",".join(line.split(",")[2:]) for line in p.read_text().splitlines()) + "\n"),
     "file_missing_column"),
    ("truncated", lambda p: p.write_bytes(p.read_bytes()[:-40]), "file_truncated"),
    ("wrong night", lambda p: p.write_text(p.read_text().replace("2026-05-03", "2026-05-02")),
     "file_date_mismatch"),
    ("semicolons", lambda p: p.write_text(p.read_text().replace(",", ";")), "file_missing_column"),
    ("duplicate header", lambda p: p.write_text(
        p.read_text().replace("product", "customer_id", 1)), "file_header"),
]


@pytest.mark.parametrize(("defect", "damage", "rule"), FILE_DEFECTS, ids=[d[0] for d in FILE_DEFECTS])
def test_file_level_defects_reject_the_whole_file(tmp_path, defect, damage, rule):
    path = write_csv(tmp_path / f"{NIGHT}.csv", [snapshot_row(number=i) for i in range(1, 4)],
                     SNAPSHOT_COLUMNS)
    damage(path)
    with pytest.raises(FileRejected) as caught:
        read_landing_file(path, load_contract("account_snapshots"))
    assert caught.value.rule == rule
    assert str(path) in str(caught.value)


def test_byte_order_mark_is_tolerated_and_noted(tmp_path):
    path = write_csv(tmp_path / f"{NIGHT}.csv", [snapshot_row()], SNAPSHOT_COLUMNS)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    landed = read_landing_file(path, load_contract("account_snapshots"))
    assert landed.table.num_rows == 1
    assert "byte-order mark" in landed.notes[0]


def test_a_record_with_too_many_fields_is_quarantined_alone(tmp_path):
    path = write_csv(tmp_path / f"{NIGHT}.csv", [snapshot_row(number=i) for i in range(1, 4)],
                     SNAPSHOT_COLUMNS)
    lines = path.read_text().splitlines()
    lines[2] = lines[2] + ",surplus"
    path.write_text("\n".join(lines) + "\n")
    landed = read_landing_file(path, load_contract("account_snapshots"))
    assert landed.table["__row_number"].to_pylist() == [1, 3]
    assert [(r.row_number, r.message) for r in landed.structural_rejects] == [
        (2, f"line 3 has {len(SNAPSHOT_COLUMNS) + 1} fields, the header has {len(SNAPSHOT_COLUMNS)}")]


def test_parquet_file_is_checked_like_csv(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [snapshot_row(number=1), snapshot_row(number=2, credit_limit="-5.00")]
    table = pa.Table.from_pylist(rows)
    table = table.set_column(table.schema.get_field_index("credit_limit"), "credit_limit",
                             pa.array([10000.0, -5.0]))
    table = table.set_column(table.schema.get_field_index("snapshot_date"), "snapshot_date",
                             pa.array([NIGHT, NIGHT], pa.date32()))
    path = tmp_path / "landing" / "account_snapshots" / f"{NIGHT}.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)
    contract = load_contract("account_snapshots")
    landed = read_landing_file(path, contract)
    conn = duckdb.connect()
    run_row_checks(conn, contract, landed)
    assert flagged_rows_by_rule(conn) == {"credit_limit_minimum": {2}}


def test_contract_naming_an_unknown_column_is_refused(tmp_path):
    text = (load_contract("account_snapshots").path.read_text()
            .replace("other: balance", "other: balanse"))
    path = tmp_path / "broken.odcs.yaml"
    path.write_text(text)
    with pytest.raises(ContractError, match="balanse"):
        parse_contract(path)


def test_every_feed_has_a_versioned_contract():
    for feed in ("account_snapshots", "customers", "contact_events"):
        contract = load_contract(feed)
        assert contract.version.count(".") == 2
        assert contract.rules


def test_event_time_bound_is_end_of_day_anywhere(tmp_path):
    from pipelines.lib.ingest.row_checks import latest_instant_of

    assert latest_instant_of(date(2026, 5, 3)).isoformat() == "2026-05-04T12:00:00+00:00"


def test_engines_agree_on_a_sample_of_a_large_file(tmp_path):
    """Above OVERDUE_GE_MAX_ROWS, GE sees every flagged row and a seeded sample of clean ones."""
    from pipelines.lib.ingest.ge_suite import ge_sample

    rows = [snapshot_row(number=n) for n in range(1, 61)]
    rows[4]["currency"] = "RMB"
    rows[20]["account_id"] = rows[40]["account_id"]
    rows[33]["days_past_due"] = "3"
    contract, landed, flagged = _check_file(tmp_path, rows, columns=SNAPSHOT_COLUMNS)
    all_flagged = set().union(*flagged.values())
    sample = ge_sample(landed.table, all_flagged, seed="abc", max_rows=15)
    assert sample.num_rows == 15
    sampled = set(sample["__row_number"].to_pylist())
    assert all_flagged <= sampled
    assert sample["__row_number"].to_pylist() == sorted(sampled)
    again = ge_sample(landed.table, all_flagged, seed="abc", max_rows=15)
    assert again["__row_number"].to_pylist() == sample["__row_number"].to_pylist()
    outcomes = validate_with_ge(sample, contract, NIGHT, complete=True)
    assert {o.rule: o.row_numbers for o in outcomes if o.row_numbers} == flagged


def test_parquet_timestamps_with_a_zone_pass_the_event_time_rule(tmp_path):
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    shanghai = dt.timezone(dt.timedelta(hours=8))
    table = pa.table({
        "event_id": ["E1", "E2"],
        "event_time": pa.array([dt.datetime(2026, 5, 3, 14, 21, 9, tzinfo=shanghai),
                                dt.datetime(2026, 5, 9, 9, 0, 0, tzinfo=shanghai)],
                               pa.timestamp("us", tz="Asia/Shanghai")),
        "customer_id": ["C1", "C1"], "account_id": [None, None],
        "event_type": ["complaint", "complaint"], "channel": [None, None],
        "amount": pa.array([None, None], pa.decimal128(18, 2)),
        "until_date": pa.array([None, None], pa.date32()),
    })
    path = tmp_path / "landing" / "contact_events" / f"{NIGHT}.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)
    contract = load_contract("contact_events")
    landed = read_landing_file(path, contract)
    conn = duckdb.connect()
    run_row_checks(conn, contract, landed)
    assert flagged_rows_by_rule(conn) == {"event_time_not_after_file_date": {2}}


def test_contract_clustering_by_an_unknown_column_is_refused(tmp_path):
    text = load_contract("account_snapshots").path.read_text().replace(
        "value: [customer_id, account_id]", "value: [customer, account_id]")
    path = tmp_path / "broken.odcs.yaml"
    path.write_text(text)
    with pytest.raises(ContractError, match="clusterBy names unknown column"):
        parse_contract(path)
