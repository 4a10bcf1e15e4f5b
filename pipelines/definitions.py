"""The `overdue` code location: every module under `defs/` is discovered, none is listed here.

The policy every asset shares is applied here, once: the nightly partitions, one run for a
backfill's range, and the owners of each stage.

Dagster calls `defs` several times for one run made in a process (the code location, the job it
reconstructs, the asset subset it executes): the Definitions are built once per process and
settings, and built again only when what they are built from changes (the `OVERDUE_*` and Dagster
environment, which the resources read, and the first landed night, where partitions start).
"""

import os
from pathlib import Path

import dagster as dg

from pipelines import settings
from pipelines.defs.partitions import nightly_partitions

OWNERS = ["team:risk-data"]
OWNERS_BY_GROUP = {"model": [*OWNERS, "team:credit-risk-models"]}


def apply_policy(loaded: dg.Definitions) -> dg.Definitions:
    """Every asset partitioned by night, backfilled as one run, owned by its stage's teams."""
    partitions = nightly_partitions()
    single_run = dg.BackfillPolicy.single_run()
    assets = [asset.with_attributes(backfill_policy=single_run)
              if isinstance(asset, dg.AssetsDefinition) else asset
              for asset in dg.map_asset_specs(lambda spec: spec.replace_attributes(
                  partitions_def=partitions, owners=OWNERS_BY_GROUP.get(spec.group_name, OWNERS)),
                  loaded.assets or [])]
    return dg.Definitions(assets=assets, asset_checks=loaded.asset_checks, jobs=loaded.jobs,
                          schedules=loaded.schedules, sensors=loaded.sensors,
                          resources=loaded.resources, executor=loaded.executor,
                          loggers=loaded.loggers, metadata=loaded.metadata)


_LOADED: dict[tuple, dg.Definitions] = {}


def _built_from() -> tuple:
    environment = tuple(sorted((name, value) for name, value in os.environ.items()
                               if name.startswith(("OVERDUE_", "DAGSTER_"))))
    return environment, settings.first_partition_date()


def loaded_definitions() -> dg.Definitions:
    """The location's Definitions for the settings of now, built once per process for them."""
    key = _built_from()
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = apply_policy(
            dg.load_from_defs_folder(path_within_project=Path(__file__).parent))
    return _LOADED[key]


@dg.definitions
def defs() -> dg.Definitions:
    return loaded_definitions()
