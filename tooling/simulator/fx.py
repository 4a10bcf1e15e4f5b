"""The demo's exchange rates: a daily `fx_rates` file with a gently moving USD -> CNY rate.

Weekdays only, as a treasury publishes them: the weekend nights then prove the 7-day look-back
(pipelines/lib/fx.py). The rates draw from their own generator, so the other files of a seed are
byte-identical with or without them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FEED = "fx_rates"
COLUMNS = ("rate_date", "from_currency", "to_currency", "rate")
START_RATE = 7.10  # CNY for one USD
DAILY_VOLATILITY = 0.002  # about 3% a year
_STREAM = 4217  # ISO 4217: keeps this generator apart from the book's


def usd_cny_path(start: date, days: int, seed: int) -> np.ndarray:
    """The USD -> CNY rate of each of `days` nights from `start` (weekends included), 4 places."""
    rng = np.random.default_rng([seed, _STREAM])
    steps = rng.normal(0.0, DAILY_VOLATILITY, days)
    steps[0] = 0.0
    return np.round(START_RATE * np.exp(np.cumsum(steps)), 4)


def write_fx_rates(home: Path, night: date, rate: float, file_format: str) -> Path | None:
    """The night's fx_rates file, or None on a Saturday or Sunday (nothing published)."""
    if night.weekday() >= 5:
        return None
    feed_dir = Path(home) / "landing" / FEED
    feed_dir.mkdir(parents=True, exist_ok=True)
    text = f"{rate:.4f}"
    if file_format == "parquet":
        path = feed_dir / f"{night.isoformat()}.parquet"
        pq.write_table(pa.table({
            "rate_date": pa.array([night], pa.date32()),
            "from_currency": ["USD"], "to_currency": ["CNY"], "rate": [text],
        }), path)
        return path
    path = feed_dir / f"{night.isoformat()}.csv"
    path.write_text(",".join(COLUMNS) + "\n" + f"{night.isoformat()},USD,CNY,{text}\n",
                    encoding="utf-8")
    return path
