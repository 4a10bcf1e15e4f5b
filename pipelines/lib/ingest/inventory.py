"""What a landing folder holds: night files, control files, and everything else with a reason.

Discovery never raises on an odd name: a file that is not what it looks like is reported as
unrecognised (by name and reason) so the sensor, the partitions and the runs keep working.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

NIGHT_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(csv|csv\.gz|parquet|xlsx)$")
NIGHT_EXTENSIONS = ("csv", "csv.gz", "parquet", "xlsx")


class FileRejected(Exception):
    """A file-level defect: nothing of the file loads, the file stays where it is."""

    def __init__(self, path: Path, rule: str, message: str):
        super().__init__(f"{path}: {message} [{rule}]")
        self.path = path
        self.rule = rule
        self.message = message


def night_of(path: Path) -> date:
    match = NIGHT_FILE.match(path.name)
    if not match:
        raise FileRejected(path, "file_name",
                           "file name is not <YYYY-MM-DD>.csv, .csv.gz, .parquet or .xlsx")
    try:
        return date.fromisoformat(match.group(1))
    except ValueError as exc:
        raise FileRejected(path, "file_name", f"file name is not a valid date ({exc})") from exc


def find_landing_file(landing: Path, feed: str, night: date) -> Path | None:
    """The night's file for a feed; two formats for one night is ambiguous and rejected."""
    candidates = [landing / feed / f"{night.isoformat()}.{ext}" for ext in NIGHT_EXTENSIONS]
    present = [p for p in candidates if p.is_file()]
    if len(present) > 1:
        raise FileRejected(present[0], "file_ambiguous",
                           f"both {present[0].name} and {present[1].name} landed for one night")
    return present[0] if present else None


def landed_nights(landing: Path, feed: str) -> list[date]:
    """Nights with a validly named night file of the feed (odd names are skipped, not raised)."""
    feed_dir = landing / feed
    if not feed_dir.is_dir():
        return []
    nights = set()
    for path in feed_dir.iterdir():
        match = NIGHT_FILE.match(path.name)
        if match and path.is_file():
            try:
                nights.add(date.fromisoformat(match.group(1)))
            except ValueError:
                continue
    return sorted(nights)
