"""Simulated consumer-credit book: the nightly landing files of DOMAIN §7 and the truth behind them.

Why it exists: every later stage (ingest, features, roll rates, the model, tiers, letters) needs
realistic nights to run on, and the tests need to know the answer. The simulator writes what a
lender's systems would drop each night and, beside it, what only the simulator knows.

Output, for every night D from ``start_date`` to ``end_date``::

    <home>/landing/account_snapshots/D.csv   one row per account that exists that night
    <home>/landing/customers/D.csv           every customer on the first night, then new or changed
    <home>/landing/contact_events/D.csv      what happened that night (header only when nothing)
    <home>/landing/fx_rates/D.csv            the USD -> CNY rate, weekdays only (tooling/simulator/fx.py)
    <home>/truth/D.parquet                   latent risk, true roll-forward probability, bucket

``file_format="parquet"`` writes the three landing feeds as ``D.parquet`` instead (amounts
decimal(18,2), dates date32, days_past_due int32; ``event_time`` stays ISO 8601 text with the
customer's UTC offset, which a parquet timestamp could not keep).

Dynamics, in short (all amounts in integer cents, state in numpy arrays, one loop over days):

* Customers carry a latent risk (standard normal, a slow random walk); an account's risk adds its
  vintage's underwriting quality (a loosened period 9-5 months before the start is worse) and a
  small account-level term.
* Monthly statement cycles: statement on a fixed day (1-28), due 18-25 days later. Minimum due is
  max(1% of balance + interest + fees, a floor) for ``revolving`` or the instalment for
  ``installment``. At the statement a current customer decides to pay in full, at least the
  minimum, partially (below the minimum) or nothing, on a pay day uniform between statement and
  due date. The miss probability is logistic in risk, utilisation, early months on book and the
  macro shock (``macro_shock_size`` is added to its log-odds from ``macro_shock_date`` on).
* Spending on revolving cards is seasonal: 618 (June) and Double 11 / Double 12 for CN, Black
  Friday and the holidays for US customers.
* A minimum left unpaid after its due date becomes an arrears instalment; DPD counts from the
  oldest one. While delinquent, each day the customer may cure (pay all past due and the current
  minimum), pay only the oldest instalment (DPD falls to the age of the next-oldest: a roll-back),
  or pay a token amount that changes nothing. These daily probabilities fall with risk, with the
  bucket and under the macro shock. DPD > 180 charges the account off; charged-off accounts stay in
  the file with DPD growing and occasional recoveries.
* The lender calls delinquent accounts (call_attempt / call_connected, 09:00-20:30 local time); a
  connected call multiplies the daily cure probability for 7 days (by 3.0 when the customer made a
  promise to pay, else 1.6). Disputes and do-not-contact, opt-out of the phone, deceased and
  bankruptcy suppress calls; deceased and bankrupt customers' accounts are frozen.
* Accounts open over time (book growth plus the loosened vintage), installment loans close when
  paid off or prepaid, zero-balance cards close at a low rate and drop out 30 days after closing.
* What a letter states (landing format 1.1) is read off this state and draws nothing, so it
  leaves the book as it was: the past-due breakdown accrued per missed instalment
  (``breakdown.py``: its late fee, its interest, penalty interest at 0.1825 a year on its
  principal since its due date, principal the rest, summing to the cent), fixed at a charge-off
  and paid down fees first by recoveries; the latest statement's date and balance; the
  charge-off day; agreement numbers and the contractual rate.

Truth (``true_roll_forward_probability``): the probability that the account's bucket on the same
day next month (DOMAIN §2 clamping) is worse than tonight's, computed from the same probability
functions the simulator samples from. It is exact for the event model except for these documented
approximations (together a fraction of a percentage point on the book's mean):

* future latent-risk drift and utilisation changes are ignored (tonight's values are used);
* disputes, suppressions and account status are assumed to stay as they are tonight, and
  closures and prepayments of current accounts are ignored;
* whether a zero-balance card will owe anything at its next statement is estimated from its daily
  spending probability;
* an account missing a due date in the window starts its delinquency with no call boost;
* for an account with two or more arrears instalments only one "pay the oldest" event is counted;
* when two due dates fall inside the month, the two misses are treated as independent.

The call/promise boost is handled exactly with a 15-state Markov chain (no boost, or 1-7 boosted
days left after a connected call without or with a promise), per delinquent account and, for
current accounts, through a cached table over risk and contact rate.
"""

from __future__ import annotations

import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from tooling.simulator.accounts import _Book
from tooling.simulator.behaviour import one_month_later
from tooling.simulator.contacts import CHANNELS, EVENT_TYPES
from tooling.simulator.fx import usd_cny_path, write_fx_rates
from tooling.simulator.people import CUSTOMER_COLUMNS, TIMEZONES
from tooling.simulator.truth import _Truth
from tooling.simulator.writing import (
    CONTACT_COLUMNS,
    FEEDS,
    SNAPSHOT_COLUMNS,
    TRUTH_COLUMNS,
    _Writer,
)

__all__ = [
    "CHANNELS",
    "CONTACT_COLUMNS",
    "CUSTOMER_COLUMNS",
    "EVENT_TYPES",
    "FEEDS",
    "SNAPSHOT_COLUMNS",
    "TIMEZONES",
    "TRUTH_COLUMNS",
    "SimulationSummary",
    "one_month_later",
    "simulate",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimulationSummary:
    """What a simulation wrote, so callers can log it and find the files."""

    start_date: date
    end_date: date
    accounts: int
    customers: int
    files: list[Path]
    rows: dict[str, int] = field(default_factory=dict)  # rows written per feed (and "truth")
    file_format: str = "csv"
    seed: int = 7


def simulate(home: Path, *, accounts: int = 20_000, days: int = 180, end_date: date | None = None,
             seed: int = 7, file_format: str = "csv", macro_shock_date: date | None = None,
             macro_shock_size: float = 0.5, progress: bool = False) -> SimulationSummary:
    """Write ``days`` nights of landing files and truth for a book of ``accounts`` accounts.

    Deterministic: the same arguments give the same bytes.

    Args:
        home: the overdue home; files go under ``home/landing`` and ``home/truth``.
        accounts: accounts that exist at some point of the simulation (some open during it).
        days: number of nights, ending at ``end_date``.
        end_date: the last night; default yesterday.
        seed: random seed.
        file_format: ``"csv"`` or ``"parquet"`` for the landing feeds (truth is always parquet).
        macro_shock_date: from this night on, misses are likelier and cures rarer.
        macro_shock_size: the shock's addition to the log-odds of a missed payment.
        progress: draw a progress line on stderr.

    Returns:
        The dates, counts and files written.
    """
    if accounts < 1:
        raise ValueError(f"accounts must be at least 1, got {accounts}")
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"file_format must be 'csv' or 'parquet', got {file_format!r}")
    if macro_shock_size < 0:
        raise ValueError(f"macro_shock_size must be >= 0, got {macro_shock_size}")
    end_date = end_date or (date.today() - timedelta(days=1))
    start_date = end_date - timedelta(days=days - 1)
    home = Path(home)
    for feed in FEEDS:
        (home / "landing" / feed).mkdir(parents=True, exist_ok=True)
    (home / "truth").mkdir(parents=True, exist_ok=True)

    files: list[Path] = []
    rows = {feed: 0 for feed in FEEDS} | {"truth": 0}
    usd_cny = usd_cny_path(start_date, days, seed)
    with _without_huge_pages(), ThreadPoolExecutor(2, thread_name_prefix="simulate") as pool:
        book = _Book(accounts, start_date, end_date, seed, macro_shock_date, macro_shock_size, pool)
        writer = _Writer(book, _Truth(book), home, file_format, pool)
        book.initialise_state()  # after the writer: the first customers file is under way
        for number in range(days):
            night = start_date + timedelta(days=number)
            book.step(night)
            written = writer.write_night(night)
            fx_file = write_fx_rates(home, night, float(usd_cny[number]), file_format)
            if fx_file is not None:
                written["fx_rates"] = (fx_file, 1)
            for name, (path, count) in written.items():
                files.append(path)
                rows[name] = rows.get(name, 0) + count
            if progress:
                _draw_progress(number + 1, days, night)
    if progress:
        sys.stderr.write("\n")
        sys.stderr.flush()
    summary = SimulationSummary(start_date, end_date, int(writer.accounts_seen.sum()),
                                int(writer.customers_written.sum()), files, rows, file_format, seed)
    logger.info("simulated %d accounts / %d customers, %s..%s, %d files under %s",
                summary.accounts, summary.customers, start_date, end_date, len(files), home)
    return summary


@contextmanager
def _without_huge_pages():
    """Stop numpy advising transparent huge pages while simulating, then restore the setting.

    With the kernel's synchronous compaction for advised regions, every fresh temporary array
    paid milliseconds of page-fault time: about a third of a large book's run time.
    """
    setter = getattr(getattr(np, "_core", np).multiarray, "_set_madvise_hugepage", None)
    previous = setter(False) if setter is not None else None
    try:
        yield
    finally:
        if setter is not None:
            setter(previous)


def _draw_progress(done: int, total: int, night: date) -> None:
    """One overwritten stderr line: long runs should show they are alive without a dependency."""
    width = 30
    filled = width * done // total
    sys.stderr.write(f"\rsimulate [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {night}")
    sys.stderr.flush()
