"""The `overdue` code location: every module under `defs/` is discovered, none is listed here.

The policy every asset shares is applied here, once: the nightly partitions, one run for a
backfill's range, and the owners of each stage.

Dagster calls `defs` several times for one run made in a process (the code location, the job it
reconstructs, the asset subset it executes): the Definitions are built once per process and
settings, and built again only when what they are built from changes (the `OVERDUE_*` and Dagster
environment, which the resources read, and the first landed night, where partitions start).
"""

import os
import warnings
from pathlib import Path

import dagster as dg

from pipelines import settings
from pipelines.defs.partitions import (
    NIGHT_DIMENSION,
    PER_SHARD_ASSETS,
    night_and_shard_partitions,
    nightly_partitions,
)

OWNERS = ["team:risk-data"]
OWNERS_BY_GROUP = {"model": [*OWNERS, "team:credit-risk-models"]}


def apply_policy(loaded: dg.Definitions) -> dg.Definitions:
    """Every asset partitioned by night (and by customer shard, for the per-account steps of a
    split book), backfilled as one run, owned by its stage's teams."""
    partitions = nightly_partitions()
    split = settings.shard_count() > 1
    by_shard = night_and_shard_partitions() if split else None
    same_night = night_of_shards() if split else None

    def per_shard(key: dg.AssetKey) -> bool:
        return split and key.to_user_string() in PER_SHARD_ASSETS

    def policy(spec: dg.AssetSpec) -> dg.AssetSpec:
        # a night-level step reads every shard of its night; a shard's step, its night's model
        deps = [dg.AssetDep(dep.asset_key, partition_mapping=same_night)
                if per_shard(dep.asset_key) != per_shard(spec.key) else dep for dep in spec.deps]
        return spec.replace_attributes(
            partitions_def=by_shard if per_shard(spec.key) else partitions, deps=deps,
            owners=OWNERS_BY_GROUP.get(spec.group_name, OWNERS))

    # a shard's step runs once per night and shard, in that shard's own run (its partition's tags
    # name the shard, and so the file it opens): a backfill of nights makes a run per night|shard
    single_run, one_per_run = dg.BackfillPolicy.single_run(), dg.BackfillPolicy.multi_run(1)
    assets = [asset.with_attributes(backfill_policy=one_per_run if any(
                  per_shard(key) for key in asset.keys) else single_run)
              if isinstance(asset, dg.AssetsDefinition) else asset
              for asset in dg.map_asset_specs(policy, loaded.assets or [])]
    jobs, schedules, sensors = loaded.jobs, loaded.schedules, loaded.sensors
    if split:
        from pipelines.defs.sensors import split_night_sensor

        jobs = split_book_jobs()
        schedules, sensors = [], [split_night_sensor(jobs)]
    return dg.Definitions(assets=assets, asset_checks=loaded.asset_checks, jobs=jobs,
                          schedules=schedules, sensors=sensors,
                          resources=loaded.resources, executor=loaded.executor,
                          loggers=loaded.loggers, metadata=loaded.metadata)


def night_of_shards() -> dg.PartitionMapping:
    """Night D of a night-level asset <-> every shard's partition D|k (Dagster marks the mapping
    beta; it is the documented one for a multi- to a single-dimension partition)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name=NIGHT_DIMENSION)


def split_book_jobs() -> list:
    """A split book's night is two jobs, one per partitioning: `nightly_shard` (the per-account
    steps of one night and shard) and `nightly` (the steps over every shard). `overdue run`
    queues their runs phase after phase of the asset graph (`pipelines/cli.py`
    `run_split_nights`), and so does the sensor `split_night_sensor`, which replaces the 02:00
    schedule and the landing sensor (they start one run per night); an asset backfill of the night
    from the UI launches the same runs."""
    shard_keys = dg.AssetSelection.assets(*sorted(PER_SHARD_ASSETS))
    return [
        dg.define_asset_job(name="nightly", selection=dg.AssetSelection.all() - shard_keys,
                            executor_def=dg.in_process_executor,
                            description="The steps of one night over every customer shard."),
        dg.define_asset_job(name="nightly_shard", selection=shard_keys,
                            executor_def=dg.in_process_executor,
                            description="The per-account steps of one night and customer shard."),
    ]


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
