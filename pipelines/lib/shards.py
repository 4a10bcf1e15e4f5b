"""Customer shards: which slice of the book a run owns, and where that slice lives.

A shard is every customer whose `shard_of(customer_id, count)` is its index (the SQL macro in
`sql/shared/macros/shard_of.sql`; `shard_of` below is the same number in Python). Everything kept
per debtor stays inside one shard, so a shard's night is the one-warehouse night over its
customers. One shard (the default, `OVERDUE_SHARDS=1`) is the one warehouse, where it always was.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pipelines import settings

MAX_SHARDS = 4096


def shard_of(customer_id: str | None, count: int) -> int:
    """The shard of a customer id: md5's first 8 hex digits, as an unsigned number, mod count."""
    if customer_id is None:
        return 0
    return int(hashlib.md5(customer_id.encode("utf-8")).hexdigest()[:8], 16) % count


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_SHARDS:
            raise ValueError(f"shard count must be 1 to {MAX_SHARDS}, got {self.count}")
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} is not one of 0..{self.count - 1}")

    @property
    def sharded(self) -> bool:
        return self.count > 1

    @property
    def label(self) -> str:
        """The shard's partition key in Dagster and its folder name: zero-padded, so it sorts."""
        return str(self.index).zfill(len(str(self.count - 1)))

    def home(self) -> Path:
        """`$OVERDUE_HOME/shards/<label>` when sharded; `$OVERDUE_HOME` itself for one shard."""
        return settings.overdue_home() / "shards" / self.label if self.sharded \
            else settings.overdue_home()

    def warehouse(self) -> Path:
        return self.home() / "warehouse.duckdb" if self.sharded else settings.warehouse_path()


WHOLE_BOOK = Shard(0, 1)


def shard_labels(count: int) -> list[str]:
    return [Shard(index, count).label for index in range(count)]


def configured_shards() -> list[Shard]:
    count = settings.shard_count()
    return [Shard(index, count) for index in range(count)]


def shard_from_label(label: str, count: int) -> Shard:
    if not label.isdigit():
        raise ValueError(f"shard partition key {label!r} is not a shard number")
    return Shard(int(label), count)
