"""Resources: the DuckDB warehouse and the landing folder, both under `$OVERDUE_HOME` by default."""

import re
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines import settings

MEMORY_LIMIT = re.compile(r"^[0-9]+(\.[0-9]+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")


class LandingResource(dg.ConfigurableResource):
    """Where upstream systems drop one file per feed per night (landing format v1)."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)


class ModelRegistryResource(dg.ConfigurableResource):
    """The model registry directory (`$OVERDUE_HOME/registry` by default)."""

    path: str

    def registry(self):
        from models.registry import ModelRegistry  # xgboost loads only where a model is used
        return ModelRegistry(self.path)


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse, with a memory cap set per connection (DuckDB spills above it).

    Set with SET rather than as connection config: DuckDB refuses a second connection to the same
    file with a different config, which would break read-only readers in the same process.
    """

    memory_limit: str = "3GB"

    @contextmanager
    def get_connection(self):
        if not MEMORY_LIMIT.match(self.memory_limit):
            raise ValueError(f"OVERDUE_DUCKDB_MEMORY_LIMIT: not a size like 3GB: {self.memory_limit!r}")
        with super().get_connection() as conn:
            conn.execute(f"set memory_limit = '{self.memory_limit}'")
            yield conn


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={
        "duckdb": WarehouseResource(database=str(settings.warehouse_path()),
                                    memory_limit=settings.duckdb_config()["memory_limit"]),
        "landing": LandingResource(path=str(settings.landing_dir())),
        "model_registry": ModelRegistryResource(path=str(settings.registry_dir())),
    })
