"""One night of a selection of the real code location's assets, materialized in process: the
Dagster tests of the collections stage share it."""

from datetime import date

import dagster as dg


def materialize_night(night: date, selection: list[str]) -> dg.ExecuteInProcessResult:
    from pipelines.definitions import defs

    definitions = defs()
    return dg.materialize(
        [a for a in definitions.assets if isinstance(a, dg.AssetsDefinition)],
        selection=selection, partition_key=night.isoformat(),
        resources=definitions.resources, raise_on_error=False)
