"""What an asset's materializations say in the UI, night by night.

A backfill is one run over a range of nights, and Dagster writes one materialization per partition
of it: the output's metadata merged with that partition's own (`add_asset_metadata` with a
partition key, partition keys winning). So each night's figures go on its own partition and only
what holds for the whole run goes on the output, or every partition of a backfill would show the
range's totals and the last night's file.
"""

from collections.abc import Mapping
from datetime import date

import dagster as dg

from pipelines.lib.warehouse import run_sql


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
                                       partition_key=night.isoformat())


def rows_by_night(conn, table: str, nights: list[date]) -> dict[date, dict]:
    """Each night's `dagster/row_count` in a table partitioned by `snapshot_date` (0 if none)."""
    counts = dict(run_sql(conn, "metadata/rows_by_night",
                          {"start_date": nights[0], "end_date": nights[-1]}, table=table).fetchall())
    return {night: {"dagster/row_count": int(counts.get(night, 0))} for night in nights}
