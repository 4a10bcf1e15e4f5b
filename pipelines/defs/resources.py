"""Resources: the DuckDB warehouse and the landing folder, both under `$OVERDUE_HOME` by default."""

import re
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from pipelines import settings
from pipelines.lib.exchange import read_shards
from pipelines.lib.shards import WHOLE_BOOK, Shard, shard_from_label
from pipelines.lib.warehouse import RunLock, WarehouseUnavailable, connect

SHARD_TAG = "dagster/partition/shard"

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

    A run of one customer shard (a split book, OVERDUE_SHARDS > 1) opens its shard's file; a
    night-level run opens the book's, and reads the shards' tables from what their runs published
    (`pipelines/lib/exchange.py`), never from their files, which only their own runs open.

    A run holds the warehouse's run lock from its first connection to its end
    (`pipelines/lib/warehouse.py`), so a second run launched meanwhile fails at once with a
    message naming the run that holds it, instead of interleaving its steps with the first. A
    damaged file or a file another process keeps locked (for longer than `lock_wait_seconds`)
    fails the step naming the file, never as an empty result.
    """

    memory_limit: str = "3GB"
    lock_wait_seconds: float = 60.0
    _run_lock: RunLock | None = PrivateAttr(default=None)
    _shard: Shard | None = PrivateAttr(default=None)
    _path: str | None = PrivateAttr(default=None)
    _book_of: int | None = PrivateAttr(default=None)  # a split book's night-level run: shards

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.run
        if run is None or self.database == ":memory:":
            return
        tags = run.tags
        count = settings.shard_count()
        label = tags.get(SHARD_TAG)
        if label is not None:
            self._shard = shard_from_label(label, count)
            self._path = str(self._shard.warehouse())
            self._shard.home().mkdir(parents=True, exist_ok=True)
        else:
            self._book_of = count if count > 1 else None
        nights = tags.get("dagster/partition") or "..".join(
            filter(None, (tags.get("dagster/asset_partition_range_start"),
                          tags.get("dagster/asset_partition_range_end")))) or "no partition"
        self._run_lock = RunLock(Path(self.path), f"run {run.run_id}, night(s) {nights}")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._run_lock is not None:
            self._run_lock.release()

    @property
    def path(self) -> str:
        """The file this run writes: its shard's warehouse, or the book's (the one warehouse)."""
        return self._path or self.database

    @property
    def shard(self) -> Shard:
        """The customer shard this run owns (the whole book when the book is one shard)."""
        return self._shard or WHOLE_BOOK

    @contextmanager
    def get_connection(self):
        if not MEMORY_LIMIT.match(self.memory_limit):
            raise ValueError(f"OVERDUE_DUCKDB_MEMORY_LIMIT: not a size like 3GB: {self.memory_limit!r}")
        try:
            if self._run_lock is not None:
                self._run_lock.acquire()
            conn = connect(Path(self.path), self.lock_wait_seconds, read_only=False,
                           config={"custom_user_agent": "dagster", **self.connection_config})
        except WarehouseUnavailable as error:
            raise dg.Failure(description=str(error)) from error
        try:
            conn.execute(f"set memory_limit = '{self.memory_limit}'")
            if self._book_of:
                read_shards(conn, self._book_of)
            yield conn
        except duckdb.IOException as error:
            if self.path not in str(error):
                raise
            raise dg.Failure(description=(
                f"warehouse {self.path} could not be read, it is damaged "
                f"({str(error).strip().splitlines()[0]}); move it away to rebuild from the landing "
                "files, or restore it from a backup")) from error
        finally:
            conn.close()


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={
        "duckdb": WarehouseResource(database=str(settings.warehouse_path()),
                                    memory_limit=settings.duckdb_config()["memory_limit"],
                                    lock_wait_seconds=settings.warehouse_lock_wait_seconds()),
        "landing": LandingResource(path=str(settings.landing_dir())),
        "model_registry": ModelRegistryResource(path=str(settings.registry_dir())),
    })
