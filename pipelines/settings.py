"""Paths and tunables: the one place `OVERDUE_*` variables are read, each at call time (so a test
or an operator can change one without re-importing anything), each with the README's default."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = REPO_ROOT / "sql"
CONTRACTS_DIR = REPO_ROOT / "data_contracts"
TEMPLATES_DIR = REPO_ROOT / "reports"

FEEDS_REQUIRED = ("account_snapshots", "customers")


def overdue_home() -> Path:
    """`$OVERDUE_HOME`, default `<repo>/var`; read at call time so tests can point it elsewhere."""
    return Path(os.environ.get("OVERDUE_HOME", REPO_ROOT / "var")).resolve()


def landing_dir() -> Path:
    return overdue_home() / "landing"


def warehouse_path() -> Path:
    return Path(os.environ.get("OVERDUE_WAREHOUSE", overdue_home() / "warehouse.duckdb")).resolve()


def registry_dir() -> Path:
    return overdue_home() / "registry"


def dagster_home() -> Path:
    return overdue_home() / "dagster_home"


def first_partition_date(default: str = "2020-01-01") -> str:
    """Earliest validly named account_snapshots night, so partitions start where the data does.

    Odd names are skipped and a stray far-off night (more than `OVERDUE_MAX_LANDING_GAP_DAYS`
    before the next landed one) is ignored, so neither breaks loading the definitions nor makes
    thousands of partitions. `OVERDUE_START_DATE` pins it (useful when landing is empty).
    """
    from pipelines.lib.ingest.inventory import scan_feed

    pinned = os.environ.get("OVERDUE_START_DATE")
    if pinned:
        return pinned
    nights = scan_feed(landing_dir(), "account_snapshots", max_landing_gap_days()).nights
    return min(nights).isoformat() if nights else default


def max_landing_gap_days() -> int:
    """`OVERDUE_MAX_LANDING_GAP_DAYS` (default 400): a first night further than this before the
    next landed one is a stray file, not the start of the history."""
    return _int("OVERDUE_MAX_LANDING_GAP_DAYS", 400)


def landing_settle_seconds() -> float:
    """`OVERDUE_LANDING_SETTLE_SECONDS` (default 5): a night file without a control file modified
    more recently than this is looked at twice this far apart; if it changed it is not read yet."""
    return float(os.environ.get("OVERDUE_LANDING_SETTLE_SECONDS", "5"))


def control_files() -> str:
    """`OVERDUE_CONTROL_FILES`: `optional` (default; a control file beside a night file is checked
    when present) or `required` (a night file without its `.ok` control file is waiting)."""
    value = os.environ.get("OVERDUE_CONTROL_FILES", "optional").strip().lower() or "optional"
    if value not in ("optional", "required"):
        raise ValueError(f"OVERDUE_CONTROL_FILES: expected optional or required, got {value!r}")
    return value


def duckdb_config() -> dict[str, str]:
    """DuckDB settings for warehouse connections: a memory cap (DuckDB spills to disk above it)."""
    return {"memory_limit": os.environ.get("OVERDUE_DUCKDB_MEMORY_LIMIT", "3GB")}


def warehouse_lock_wait_seconds() -> float:
    """How long a run waits for a warehouse file another process (not a run) keeps locked."""
    return float(os.environ.get("OVERDUE_WAREHOUSE_LOCK_WAIT_SECONDS", "60"))


def dagster_sqlite_synchronous() -> str:
    """`OVERDUE_DAGSTER_SQLITE_SYNC`: how the Dagster instance's SQLite files commit. `normal`
    (default; WAL, consistent after a kill -9 or a power cut, fewer fsyncs), `full` (SQLite's
    own default) or `off` (no fsync: nothing lost when the process dies, but a power cut can
    damage the run history; the warehouse is not concerned)."""
    value = os.environ.get("OVERDUE_DAGSTER_SQLITE_SYNC", "normal").strip().lower() or "normal"
    if value not in ("full", "normal", "off"):
        raise ValueError(f"OVERDUE_DAGSTER_SQLITE_SYNC: expected full, normal or off, got {value!r}")
    return value


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    try:
        return int(raw) if raw not in (None, "") else default
    except ValueError:
        raise ValueError(f"{name}: not a whole number: {raw!r}") from None


def shard_count() -> int:
    """How many customer shards the book is split into (1: one warehouse, the default)."""
    count = _int("OVERDUE_SHARDS", 1)
    if count < 1:
        raise ValueError(f"OVERDUE_SHARDS: at least 1, got {count}")
    return count


def shard_workers() -> int:
    """How many of a split book's runs go at once (its Dagster run queue's limit)."""
    count = _int("OVERDUE_SHARD_WORKERS", os.cpu_count() or 1)
    if count < 1:
        raise ValueError(f"OVERDUE_SHARD_WORKERS: at least 1, got {count}")
    return count


def dagster_postgres_url() -> str | None:
    """A split book's Dagster run storage; unset: the home's own PostgreSQL (scripts/postgres)."""
    return os.environ.get("OVERDUE_DAGSTER_POSTGRES_URL") or None


def timezone() -> str:
    """The lender's time zone: nights, partitions and the 02:00 schedule."""
    return os.environ.get("OVERDUE_TIMEZONE", "Asia/Shanghai")


def sensor_lookback_days() -> int:
    """How far back the landing sensor starts nights (history is for backfills)."""
    return _int("OVERDUE_SENSOR_LOOKBACK_DAYS", 7)


def ge_max_rows() -> int:
    """Above this many rows great-expectations validates a sample (every flagged row kept)."""
    return _int("OVERDUE_GE_MAX_ROWS", 1_000_000)


def state_rows_per_pass() -> int:
    """Above this many rows (last night's state plus tonight's snapshots) the carried-state pass
    runs once per account range."""
    return _int("OVERDUE_STATE_ROWS_PER_PASS", 4_000_000)


def ge_backfill_nights() -> int:
    """In a longer backfill, how many nights great-expectations validates."""
    return _int("OVERDUE_GE_BACKFILL_NIGHTS", 7)


def feature_rows_per_pass() -> int:
    """Above this many snapshot rows in its windows the feature query runs per customer range."""
    return _int("OVERDUE_FEATURE_ROWS_PER_PASS", 100_000_000)


def scoring_chunk_rows() -> int:
    """account_features rows scored, explained or monitored at a time."""
    return _int("OVERDUE_SCORING_CHUNK_ROWS", 500_000)


def letters_per_pdf() -> int:
    """Print letters per PDF file of a batch."""
    return _int("OVERDUE_LETTERS_PER_PDF", 300)


def letter_max_pages() -> int:
    """`OVERDUE_LETTER_MAX_PAGES` (default 3): a print letter laid out longer is held
    (print_too_long), never released."""
    pages = _int("OVERDUE_LETTER_MAX_PAGES", 3)
    if pages < 1:
        raise ValueError(f"OVERDUE_LETTER_MAX_PAGES: expected at least 1, got {pages}")
    return pages


PRINT_ENGINES = ("typst", "weasyprint")


def print_engine() -> str:
    """`OVERDUE_PRINT_ENGINE`: typst (default) or weasyprint, which lays out print letters."""
    engine = os.environ.get("OVERDUE_PRINT_ENGINE", "typst").strip().lower() or "typst"
    if engine not in PRINT_ENGINES:
        raise ValueError(f"OVERDUE_PRINT_ENGINE: expected one of {PRINT_ENGINES}, got {engine!r}")
    return engine


def report_languages() -> str:
    """`OVERDUE_REPORT_LANGUAGES` as set (comma-separated); empty means every language."""
    return os.environ.get("OVERDUE_REPORT_LANGUAGES", "")


def report_pdf_engine() -> str:
    """`OVERDUE_REPORT_PDF_ENGINE`: auto (Chromium when found, else WeasyPrint), chromium or
    weasyprint."""
    engine = os.environ.get("OVERDUE_REPORT_PDF_ENGINE", "").strip().lower() or "auto"
    if engine not in ("auto", "chromium", "weasyprint"):
        raise ValueError(f"OVERDUE_REPORT_PDF_ENGINE: expected auto, chromium or weasyprint, "
                         f"got {engine!r}")
    return engine


def chromium() -> str:
    """`OVERDUE_CHROMIUM`: the browser that prints the report's PDF; empty means /usr/bin/chromium,
    else chromium or chromium-browser on PATH."""
    return os.environ.get("OVERDUE_CHROMIUM", "").strip()


def report_assumptions() -> Path | None:
    """`OVERDUE_REPORT_ASSUMPTIONS`: another IFRS 9 assumptions file, if set."""
    raw = os.environ.get("OVERDUE_REPORT_ASSUMPTIONS")
    return Path(raw) if raw else None


def reporting_currency() -> str:
    """`OVERDUE_REPORTING_CURRENCY` (ISO 4217, default CNY): the currency book totals are shown in."""
    return os.environ.get("OVERDUE_REPORTING_CURRENCY", "CNY").strip().upper() or "CNY"


def bench_setup_memory_limit() -> str:
    """DuckDB's cap while a bench book is built (unmeasured, so it may use more than a night)."""
    return os.environ.get("OVERDUE_BENCH_SETUP_MEMORY_LIMIT", "12GB")


def model_config():
    """The model's settings: its defaults overridden by `OVERDUE_MODEL_<FIELD>` variables."""
    from models.config import ModelConfig

    return ModelConfig.from_env(os.environ)


def letters_out_dir() -> Path:
    """Where the nightly letter batches are written, one folder per night."""
    return overdue_home() / "out" / "letters"


def personal_file_mode() -> int:
    """`OVERDUE_PERSONAL_FILE_MODE` (octal, default 0600): the mode of every file of a letter
    batch (they hold names, phones, addresses); its folders get the same bits plus search."""
    raw = os.environ.get("OVERDUE_PERSONAL_FILE_MODE", "") or "0600"
    try:
        mode = int(raw, 8)
    except ValueError:
        raise ValueError(f"OVERDUE_PERSONAL_FILE_MODE: not an octal mode: {raw!r}") from None
    if not 0 <= mode <= 0o777 or not mode & 0o600 == 0o600:
        raise ValueError(f"OVERDUE_PERSONAL_FILE_MODE: {raw!r}: the owner must read and write")
    return mode


def letter_retention_days() -> int:
    """`OVERDUE_LETTER_RETENTION_DAYS` (default 90): the nightly run purges the personal-data
    files of letter batches older than this (contact records stay in the warehouse)."""
    days = _int("OVERDUE_LETTER_RETENTION_DAYS", 90)
    if days < 1:
        raise ValueError(f"OVERDUE_LETTER_RETENTION_DAYS: expected at least 1, got {days}")
    return days


def volume_band() -> tuple[float, float]:
    """`OVERDUE_VOLUME_BAND` (percent, default `-20,+30`): the change of tonight's loaded
    accounts against the previous night's outside which the volume gate stops the night."""
    raw = os.environ.get("OVERDUE_VOLUME_BAND", "") or "-20,+30"
    try:
        lower, upper = (float(part) for part in raw.split(","))
    except ValueError:
        raise ValueError(f"OVERDUE_VOLUME_BAND: expected 'LOWER,UPPER' percent, got {raw!r}") from None
    if not lower <= 0 <= upper:
        raise ValueError(f"OVERDUE_VOLUME_BAND: {raw!r}: the band must hold 0 (e.g. -20,+30)")
    return lower, upper


def max_quarantine_share() -> float:
    """`OVERDUE_MAX_QUARANTINE_SHARE` (default 0.5): above this share of a night's rows of a feed
    quarantined, the night is stopped."""
    raw = os.environ.get("OVERDUE_MAX_QUARANTINE_SHARE", "") or "0.5"
    try:
        share = float(raw)
    except ValueError:
        raise ValueError(f"OVERDUE_MAX_QUARANTINE_SHARE: not a number: {raw!r}") from None
    if not 0 <= share <= 1:
        raise ValueError(f"OVERDUE_MAX_QUARANTINE_SHARE: expected 0..1, got {share}")
    return share


def volume_min_accounts() -> int:
    """`OVERDUE_VOLUME_MIN_ACCOUNTS` (default 100): the volume band applies once the previous
    night had at least this many accounts (on a smaller book a few accounts are a large share);
    zero accounts loaded stops a night of any size."""
    return max(_int("OVERDUE_VOLUME_MIN_ACCOUNTS", 100), 1)


def quarantine_share_min_rows() -> int:
    """`OVERDUE_QUARANTINE_SHARE_MIN_ROWS` (default 20): a feed-night that read fewer rows is not
    judged on its quarantined share (one bad row of a one-row customers change file is that row
    quarantined, not a broken night)."""
    rows = _int("OVERDUE_QUARANTINE_SHARE_MIN_ROWS", 20)
    if rows < 1:
        raise ValueError(f"OVERDUE_QUARANTINE_SHARE_MIN_ROWS: expected at least 1, got {rows}")
    return rows


def experiments_dir() -> Path:
    """`OVERDUE_EXPERIMENTS_DIR` (default pipelines/config/experiments): the pre-registered
    strategy experiment files (issue 19)."""
    default = REPO_ROOT / "pipelines" / "config" / "experiments"
    return Path(os.environ.get("OVERDUE_EXPERIMENTS_DIR", default))


def promise_grace_days() -> int:
    """`OVERDUE_PROMISE_GRACE_DAYS` (default 1): a promise to pay is kept by payments up to its
    date plus this many days (a payment made on the date often posts the next day)."""
    days = _int("OVERDUE_PROMISE_GRACE_DAYS", 1)
    if days < 0:
        raise ValueError(f"OVERDUE_PROMISE_GRACE_DAYS: expected 0 or more, got {days}")
    return days


def tier_settings() -> dict:
    """The settings sql/collections/collection_tiers.sql reads, for the champion's tiering and
    every experiment arm's alike."""
    return {"promise_grace_days": promise_grace_days(), "lender_timezone": timezone()}
