"""The nightly job: every asset of one night, in one process (DuckDB has one writer per file)."""

import dagster as dg

from pipelines.defs.partitions import nightly_partitions

nightly_job = dg.define_asset_job(
    name="nightly",
    selection=dg.AssetSelection.all(),
    partitions_def=nightly_partitions,
    executor_def=dg.in_process_executor,
    description="Ingest, check and build every table of one night (or a range, as one run).",
)
