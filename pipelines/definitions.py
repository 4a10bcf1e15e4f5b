"""The `overdue` code location: every module under `defs/` is discovered, none is listed here.

The policy every asset shares is applied here, once: the nightly partitions, one run for a
backfill's range, and the owners of each stage.
"""

from pathlib import Path

import dagster as dg

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


@dg.definitions
def defs() -> dg.Definitions:
    return apply_policy(dg.load_from_defs_folder(path_within_project=Path(__file__).parent))
