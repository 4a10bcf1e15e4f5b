"""The nightly job: every asset of one night, in one process (DuckDB has one writer per file).

Its partitions are the assets' (applied in `pipelines/definitions.py`)."""

import dagster as dg

nightly_job = dg.define_asset_job(
    name="nightly",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Ingest, check and build every table of one night (or a range, as one run).",
)
