"""What a landing folder holds: night files, control files, and everything else with a reason.

Discovery never raises on an odd name: a file that is not what it looks like is reported as
unrecognised (by name and reason) so the sensor, the partitions and the runs keep working.
"""

from __future__ import annotations

import difflib
import re
import time
from dataclasses import dataclass, field
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


CONTROL_SUFFIX = ".ok"
UNDATED_NIGHT = re.compile(r"^(\d{4})(\d{2})(\d{2})\.(csv|csv\.gz|parquet|xlsx)$")


@dataclass(frozen=True)
class Unrecognised:
    """An entry of the landing folder that is not a night file or its control file."""

    path: Path
    reason: str


@dataclass
class FeedInventory:
    feed: str
    nights: dict[date, list[Path]] = field(default_factory=dict)
    controls: dict[Path, Path] = field(default_factory=dict)  # night file -> its control file
    unrecognised: list[Unrecognised] = field(default_factory=list)


def _valid_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _reason(path: Path) -> str:
    """Why an entry that is not a valid night file was not taken as one."""
    name = path.name
    if path.is_symlink() and not path.exists():
        return "dangling symbolic link (its target does not exist)"
    if name.startswith(".") or name.endswith((".part", ".tmp", ".partial", "~")):
        return "hidden or temporary file (a transfer still in progress?); not read"
    match = NIGHT_FILE.match(name)
    if match:
        if path.is_dir():
            return "a directory named like a night file"
        if _valid_date(match.group(1)) is None:
            return f"impossible date in the name: {match.group(1)} is not a calendar day"
        return "not a regular file"
    if path.is_dir():
        return "a directory inside the feed folder"
    undated = UNDATED_NIGHT.match(name)
    if undated:
        text = "-".join(undated.groups()[:3])
        if _valid_date(text):
            return (f"name is not <YYYY-MM-DD>.<ext>: did you mean {text}.{undated.group(4)}?")
    if name.endswith(CONTROL_SUFFIX):
        return f"control file without its night file {name[:-len(CONTROL_SUFFIX)]}"
    extension = "".join(path.suffixes[-2:]) if name.endswith(".gz") else path.suffix
    if extension and extension.lstrip(".") not in NIGHT_EXTENSIONS:
        return (f"unknown extension {extension!r}: night files are <YYYY-MM-DD>."
                + ", .".join(NIGHT_EXTENSIONS))
    return "name is not <YYYY-MM-DD>." + ", .".join(NIGHT_EXTENSIONS)


def isolated_nights(nights: list[date], max_gap_days: int) -> list[date]:
    """Leading nights more than `max_gap_days` before the next landed one (a stray old file)."""
    ordered = sorted(set(nights))
    start = 0
    while start < len(ordered) - 1 and (ordered[start + 1] - ordered[start]).days > max_gap_days:
        start += 1
    return ordered[:start]


def scan_feed(landing: Path, feed: str, max_gap_days: int | None = None) -> FeedInventory:
    """Every entry of `landing/<feed>/`: a night file, a control file, or unrecognised with a reason."""
    inventory = FeedInventory(feed)
    feed_dir = landing / feed
    if not feed_dir.is_dir():
        return inventory
    entries = sorted(feed_dir.iterdir())
    names = {p.name for p in entries}
    for path in entries:
        match = NIGHT_FILE.match(path.name)
        night = _valid_date(match.group(1)) if match else None
        if night is not None and path.is_file():
            inventory.nights.setdefault(night, []).append(path)
            control = path.with_name(path.name + CONTROL_SUFFIX)
            if control.name in names:
                inventory.controls[path] = control
        elif (path.name.endswith(CONTROL_SUFFIX) and path.is_file()
              and NIGHT_FILE.match(path.name[:-len(CONTROL_SUFFIX)])
              and path.name[:-len(CONTROL_SUFFIX)] in names):
            continue
        else:
            inventory.unrecognised.append(Unrecognised(path, _reason(path)))
    if max_gap_days is not None:
        for night in isolated_nights(list(inventory.nights), max_gap_days):
            for path in inventory.nights.pop(night):
                inventory.unrecognised.append(Unrecognised(
                    path, f"isolated night: more than {max_gap_days} days before the next landed"
                    " night, so it starts no partition (OVERDUE_MAX_LANDING_GAP_DAYS)"))
    return inventory


def stray_landing_entries(landing: Path, feeds: list[str]) -> list[Unrecognised]:
    """Entries directly under `landing/` that are no feed folder (a typo such as contact_event/)."""
    if not landing.is_dir():
        return []
    stray = []
    for path in sorted(landing.iterdir()):
        if path.name in feeds and path.is_dir():
            continue
        close = difflib.get_close_matches(path.name, feeds, n=1)
        hint = f"; did you mean {close[0]}/?" if close else ""
        kind = "folder" if path.is_dir() else "file"
        stray.append(Unrecognised(path, f"{kind} under landing/ is not a feed folder"
                                  f" (feeds: {', '.join(feeds)}){hint}"))
    return stray


def file_unsettled(path: Path, settle_seconds: float, wait: bool) -> str | None:
    """Why a night file without a control file is not to be read yet, or None when it is settled.

    A file modified within `settle_seconds` is looked at again that much later (`wait`) and is
    still being written if its size or mtime changed; without `wait` (the sensor) it is simply
    not ready this tick.
    """
    first = path.stat()
    if time.time() - first.st_mtime >= settle_seconds:
        return None
    if not wait:
        return f"{path.name} was modified less than {settle_seconds:g}s ago"
    time.sleep(settle_seconds)
    second = path.stat()
    if (first.st_size, first.st_mtime_ns) != (second.st_size, second.st_mtime_ns):
        return (f"{path} is still being written (size {first.st_size} -> {second.st_size} bytes"
                f" in {settle_seconds:g}s); run again once the transfer has finished")
    return None
