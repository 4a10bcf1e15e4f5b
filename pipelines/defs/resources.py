"""Resources: the DuckDB warehouse and the landing folder, both under `$OVERDUE_HOME` by default."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines import settings


class LandingResource(dg.ConfigurableResource):
    """Where upstream systems drop one file per feed per night (landing format v1)."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={
        "duckdb": DuckDBResource(database=str(settings.warehouse_path()),
                                 connection_config=settings.duckdb_config()),
        "landing": LandingResource(path=str(settings.landing_dir())),
    })
