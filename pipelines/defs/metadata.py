"""What an asset's materializations say in the UI, night by night.

A backfill is one run over a range of nights, and Dagster writes one materialization per partition
of it: the output's metadata merged with that partition's own (`add_asset_metadata` with a
partition key, partition keys winning). So each night's figures go on its own partition and only
what holds for the whole run goes on the output, or every partition of a backfill would show the
range's totals and the last night's file.
"""

import functools
import math
import re
from collections.abc import Mapping
from datetime import date

import dagster as dg

from pipelines import settings
from pipelines.defs.partitions import NIGHT_DIMENSION, partition_nights
from pipelines.lib.warehouse import run_sql

# Assets whose table or files hold personal data (names, phones, e-mails, addresses): filter the
# catalog by the tag `pii`.
PII_TAG = {"pii": "true"}
# Run tags that mark a run which succeeded with something to look at (quarantined rows, a check
# that warned): the UI shows a run's tags in every run list, so such a run is not plain green.
RUN_FLAG_PREFIX = "overdue/"


def flag_run(context: dg.AssetExecutionContext, name: str, value: str) -> None:
    """Tag the running run `overdue/<name>=<value>`, e.g. `overdue/quarantined_customers`."""
    context.instance.add_run_tags(context.run.run_id, {f"{RUN_FLAG_PREFIX}{name}": value})


def run_range(nights: list[date]) -> dict:
    """The run's nights, on every partition it materialised (a plain night says `one night`)."""
    if len(nights) == 1:
        return {"run_nights": "one night"}
    return {"run_nights": f"{nights[0]} .. {nights[-1]} ({len(nights)} nights, one run)"}


def record_nights(context: dg.AssetExecutionContext, nights: list[date],
                  per_night: Mapping[date, Mapping], *, default: Mapping | None = None,
                  asset_key: str | None = None) -> None:
    """Give each night of the run its own figures (`default` for a night `per_night` lacks)."""
    for night in nights:
        metadata = per_night.get(night, default or {})
        if metadata:
            context.add_asset_metadata(metadata, asset_key=asset_key,
                                       partition_key=night_partition_key(context, night))


def night_partition_key(context: dg.AssetExecutionContext, night: date) -> str:
    """The night's partition key in this run: the night, or night|shard on a shard's step."""
    if not isinstance(context.assets_def.partitions_def, dg.MultiPartitionsDefinition):
        return night.isoformat()
    key = context.partition_key
    return dg.MultiPartitionKey({**key.keys_by_dimension, NIGHT_DIMENSION: night.isoformat()})


def rows_by_night(conn, table: str, nights: list[date]) -> dict[date, dict]:
    """Each night's `dagster/row_count` in a table partitioned by `snapshot_date` (0 if none)."""
    counts = dict(run_sql(conn, "metadata/rows_by_night",
                          {"start_date": nights[0], "end_date": nights[-1]}, table=table).fetchall())
    return {night: {"dagster/row_count": int(counts.get(night, 0))} for night in nights}


def header_definitions(sql_name: str) -> dict[str, str]:
    """{column: definition} from the header of `sql/<sql_name>.sql`, read as written (a header
    may name template variables and follow `{% set %}` lines, so it is not rendered); the data
    dictionary's grammar."""
    from pipelines.lib.features.data_dictionary import _CONTINUATION, _ENTRY

    definitions: dict[str, str] = {}
    last: list[str] = []
    for line in (settings.SQL_DIR / f"{sql_name}.sql").read_text(encoding="utf-8").splitlines():
        if line.startswith("{%"):
            continue
        if not line.startswith("--"):
            break
        if entry := _ENTRY.match(line):
            last = entry.group(1).split(", ")
            definitions |= {column: entry.group(2).strip() for column in last}
        elif (more := _CONTINUATION.match(line)) and last:
            for column in last:
                definitions[column] += " " + more.group(1).strip()
        else:
            last = []
    return definitions


def table_metadata(conn, table: str, sql_name: str | None = None,
                   definitions: Mapping[str, str] | None = None) -> dict:
    """`dagster/table_name` and `dagster/column_schema` of a warehouse table: each column's type
    from the table as it is after the run, its description from the header of the SQL that
    creates it (`sql_name`) or from `definitions` (a contract's)."""
    described = dict(definitions or {})
    if sql_name:
        described = header_definitions(sql_name) | described
    rows = run_sql(conn, "metadata/table_column_types", {"table_name": table}).fetchall()
    if not rows:
        return {}
    return {
        "dagster/table_name": f"{rows[0][0]}.main.{table}",
        "dagster/column_schema": dg.TableSchema(columns=[
            dg.TableColumn(name, type=data_type, description=described.get(name) or None)
            for _, name, data_type in rows]),
    }


MONEY = re.compile(r"^(balance|credit_limit|amount|amount_due|past_due_amount|payment_amount|ecl|ead)$"
                   r"|_balance$|^balance_|_amount$")
RATE = re.compile(r"(^|_)(rate|ratio|share|utilisation|probability|psi|coverage)(_|$)|^share_")


def _cell(column: str, value, currency: str | None):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if hasattr(value, "hour") and not (
            value.hour or value.minute or value.second) else value.isoformat()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value if isinstance(value, (str, bool)) else str(value)
    if MONEY.search(column):
        return f"{value:,.2f}" + (f" {currency}" if currency else "")
    if RATE.search(column):
        return f"{value:.4g}"
    return int(value) if float(value).is_integer() else f"{value:.6g}"


def preview_table(frame) -> dg.MetadataValue:
    """A preview as the UI's table: amounts with thousands separators, 2 decimals and the row's
    currency (its `amount_currency` or `currency`), rates and shares to 4 significant figures."""
    currency = next((c for c in ("amount_currency", "currency") if c in frame.columns), None)
    records = []
    for row in frame.to_dict("records"):
        code = row.get(currency) if currency else None
        records.append(dg.TableRecord({
            column: _cell(column, value, code if isinstance(code, str) else None)
            for column, value in row.items()}))
    types = {column: "string" if (MONEY.search(column) or RATE.search(column)) else
             ("int" if str(dtype).lower().startswith(("int", "uint")) else
              "bool" if str(dtype).lower() == "bool" else "string")
             for column, dtype in frame.dtypes.items()}
    return dg.MetadataValue.table(records, schema=dg.TableSchema(
        columns=[dg.TableColumn(column, type=types[column]) for column in frame.columns]))


def nights_text(nights: list[date]) -> str:
    return str(nights[0]) if len(nights) == 1 else f"{nights[0]} .. {nights[-1]}"


def checked(context: dg.AssetExecutionContext, nights: list[date],
            result: dg.AssetCheckResult) -> dg.AssetCheckResult:
    """The check result with the nights it judged (`nights`); a failed WARN check also tags the
    run `overdue/warning_<check>`, so a run that succeeded with a warning says so in run lists."""
    if not result.passed and result.severity == dg.AssetCheckSeverity.WARN:
        flag_run(context, f"warning_{result.check_name}", nights_text(nights))
    return dg.AssetCheckResult(
        passed=result.passed, asset_key=result.asset_key, check_name=result.check_name,
        metadata={"nights": nights_text(nights), **result.metadata}, severity=result.severity,
        description=result.description)


def nights_on_checks(compute):
    """An asset function whose check results carry the nights they judged (see `checked`)."""
    @functools.wraps(compute)
    def with_nights(context, *args, **kwargs):
        nights = partition_nights(context)
        produced = compute(context, *args, **kwargs)
        for event in [produced] if isinstance(produced, dg.MaterializeResult) else produced or ():
            yield checked(context, nights, event) if isinstance(event, dg.AssetCheckResult) \
                else event
    return with_nights
