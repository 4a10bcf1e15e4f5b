"""Exchange rates of a night, so money in several currencies is converted, never summed raw.

The optional feed `fx_rates` lands one file a night; a night without one (a weekend, a holiday)
uses the latest rate of the 7 days before it. A currency with no rate in that window has no
conversion: callers then show per-currency figures only, never a total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import duckdb

from pipelines import settings
from pipelines.lib.ingest.contracts import load_contract
from pipelines.lib.warehouse import run_sql, table_exists

LOOKBACK_DAYS = 7


@dataclass(frozen=True)
class Rate:
    currency: str
    rate: float  # units of the reporting currency for one unit of `currency`
    rate_date: date
    source_pair: str  # as landed, e.g. "USD/CNY" (or "CNY/USD" when inverted)


@dataclass(frozen=True)
class NightRates:
    night: date
    reporting_currency: str
    rates: Mapping[str, Rate] = field(default_factory=dict)  # currency -> its rate (not the
    # reporting currency's); a plain dict so the report's process pool can pickle it

    def rate(self, currency: str) -> float | None:
        """Units of the reporting currency for one `currency`; 1.0 for the reporting currency."""
        currency = currency.upper()
        if currency == self.reporting_currency:
            return 1.0
        found = self.rates.get(currency)
        return found.rate if found else None

    def rate_date(self, currency: str) -> date | None:
        """The date of the rate used (the night itself for the reporting currency)."""
        currency = currency.upper()
        if currency == self.reporting_currency:
            return self.night
        found = self.rates.get(currency)
        return found.rate_date if found else None

    def missing(self, currencies) -> list[str]:
        """The currencies among `currencies` that cannot be converted tonight, sorted."""
        return sorted({c.upper() for c in currencies if self.rate(c) is None})

    def convert(self, amount: float | None, currency: str) -> float | None:
        """`amount` in the reporting currency; None when there is no rate (or no amount)."""
        rate = self.rate(currency)
        if rate is None or amount is None:
            return None
        return float(amount) * rate

    def describe(self, currency: str, digits: int = 4) -> str | None:
        """e.g. "1 USD = 7.1234 CNY (2026-12-01)"; None without a rate."""
        rate, when = self.rate(currency), self.rate_date(currency)
        if rate is None:
            return None
        return f"1 {currency.upper()} = {rate:.{digits}f} {self.reporting_currency} ({when.isoformat()})"

    def describe_all(self, currencies, digits: int = 4) -> list[str]:
        """One `describe` line per foreign currency among `currencies` that has a rate."""
        return [line for c in sorted({c.upper() for c in currencies})
                if c != self.reporting_currency and (line := self.describe(c, digits))]


def ensure_fx_table(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the (empty) `fx_rates` table as ingest would, for a warehouse built before the feed
    existed: the tables that convert amounts then run, with no rates."""
    contract = load_contract("fx_rates")
    run_sql(conn, "ingest/create_feed_table", table="fx_rates", columns=contract.columns,
            file_date_column=contract.file_date_column, shard_by=contract.shard_by)


def night_rates(conn: duckdb.DuckDBPyConnection, night: date,
                reporting_currency: str | None = None) -> NightRates:
    """The rates usable on `night` (rate_date in [night - 7 days, night]) into the reporting
    currency (default `OVERDUE_REPORTING_CURRENCY`). Without an `fx_rates` table there are none."""
    reporting = (reporting_currency or settings.reporting_currency()).upper()
    rates: dict[str, Rate] = {}
    if table_exists(conn, "fx_rates"):
        rows = run_sql(conn, "shared/fx_rates_by_night",
                       {"start_date": night, "end_date": night, "reporting_currency": reporting,
                        "lookback_days": LOOKBACK_DAYS}).fetchall()
        rates = {currency: Rate(currency, float(rate), rate_date, pair)
                 for _, currency, rate, rate_date, pair in rows}
    return NightRates(night, reporting, rates)
