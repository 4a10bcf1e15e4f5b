"""Every figure the risk report shows, read from the warehouse (one query per file, sql/report/).

Only aggregates are read: counts, amounts, rates. The report never reads `customers`, and from
`quarantine` never the quarantined record (it can hold personal data).
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import pandas as pd

from pipelines.lib import fx, warehouse
from pipelines.lib.exchange import book_table
from pipelines.lib.model.degraded import Degraded, night_status
from pipelines.lib.report import ifrs9, markov
from pipelines.lib.report import sections as report_sections
from pipelines.lib.report.ifrs9 import Assumptions
from pipelines.lib.warehouse import load_macros

log = logging.getLogger(__name__)


class NoBookForNight(ValueError):
    """The warehouse has no portfolio_daily row for the night: nothing to report on."""


def one_month_earlier(night: date) -> date:
    """DOMAIN §2 (the SQL macro one_month_earlier): same day last month, clamped; month end to
    month end."""
    first = night.replace(day=1)
    previous_last = first - timedelta(days=1)
    if night.day == calendar.monthrange(night.year, night.month)[1]:
        return previous_last
    return previous_last.replace(day=min(night.day, previous_last.day))


def is_month_end(night: date) -> bool:
    return night.day == calendar.monthrange(night.year, night.month)[1]


@dataclass
class ReportData:
    night: date
    currency: str
    history: pd.DataFrame  # portfolio_daily, every product, up to the night
    kpis: dict  # executive summary: name -> {"tonight", "previous_night", "month_earlier"}
    compared_nights: dict  # "previous_night" / "month_earlier" -> date or None
    bucket_mix: pd.DataFrame
    matrices: dict  # night -> markov.RollMatrix
    chain: list  # RollMatrix, oldest first, one month apart, ending tonight
    flow_rates: pd.DataFrame
    forecast: markov.Forecast | None
    forecast_balance: markov.Forecast | None
    backtest: pd.DataFrame
    vintage: pd.DataFrame
    ecl: pd.DataFrame
    exposure: pd.DataFrame
    pd_source: str
    chain_pd: dict
    assumptions: Assumptions
    optional: dict = field(default_factory=dict)  # section -> {table: DataFrame} or None
    quality: dict = field(default_factory=dict)
    ifrs9: ifrs9.Ifrs9Figures | None = None
    rates: fx.NightRates | None = None  # the night's exchange rates into `currency`
    by_currency: pd.DataFrame = field(default_factory=pd.DataFrame)  # the book per currency
    quarantine_effect: dict = field(default_factory=dict)  # see `quarantine_effect`
    degraded: Degraded | None = None  # the night's declared degraded mode (no scores)
    loop: list = field(default_factory=list)  # sections.Collected, one per collections-loop sub-section


def query(conn, name: str, **params) -> pd.DataFrame:
    context = params.pop("context", {})
    return warehouse.query(conn, f"report/{name}", params, **context)


def present_tables(conn) -> set[str]:
    return set(warehouse.query(conn, "shared/list_tables")["table_name"])


def latest_book_night(conn, start: date, end: date) -> date | None:
    """The last night in start..end with a book (portfolio_daily), or None."""
    if "portfolio_daily" not in present_tables(conn):
        return None
    night = query(conn, "latest_book_night", start_date=start, end_date=end)["night"].iloc[0]
    return None if pd.isna(night) else pd.Timestamp(night).date()


def _kpis(history: pd.DataFrame, night: date) -> tuple[dict, dict]:
    book = history[history["product"] == "all"].set_index("snapshot_date").sort_index()
    book.index = pd.to_datetime(book.index).date
    if night not in book.index:
        raise NoBookForNight(f"no portfolio_daily row for {night}: build the features first")
    earlier = [d for d in book.index if d < night]
    previous = earlier[-1] if earlier else None
    month_target = one_month_earlier(night)
    month = max((d for d in earlier if d <= month_target), default=None)
    measures = ("accounts", "balance", "book_accounts", "book_balance", "rate_30plus_accounts",
                "rate_60plus_accounts", "rate_90plus_accounts", "rate_30plus_balance",
                "rate_90plus_balance", "npl_balance", "npl_ratio", "writeoff_accounts",
                "writeoff_balance", "new_writeoffs", "new_writeoff_balance")
    kpis = {}
    for name in measures:
        kpis[name] = {
            "tonight": _number(book.at[night, name]),
            "previous_night": _number(book.at[previous, name]) if previous else None,
            "month_earlier": _number(book.at[month, name]) if month else None,
        }
    # this calendar month's new write-offs (portfolio_daily's month-to-date figures)
    kpis["writeoffs_month"] = {"tonight": _number(book.at[night, "month_writeoffs"]),
                               "previous_night": None, "month_earlier": None}
    kpis["writeoff_balance_month"] = {"tonight": _number(book.at[night, "month_writeoff_balance"]),
                                      "previous_night": None, "month_earlier": None}
    return kpis, {"previous_night": previous, "month_earlier": month}


def provision_ratios(kpis: dict, ecl_total: pd.DataFrame | None) -> dict:
    """拨贷比 (ECL ÷ loans) and 拨备覆盖率 (ECL ÷ NPL balance), with the ECL of the loans on the
    book: stages 1-3, not the written-off stock (which is not in either denominator)."""
    ecl = None
    if ecl_total is not None and not ecl_total.empty and "ecl" in ecl_total:
        on_book = ecl_total[ecl_total["stage"].astype(str).isin(["1", "2", "3"])]["ecl"]
        ecl = None if on_book.isna().any() or on_book.empty else float(on_book.sum())
    loans, npl = kpis["book_balance"]["tonight"], kpis["npl_balance"]["tonight"]
    return {
        "ecl_on_book": ecl,
        "provision_to_loans": ecl / loans if ecl is not None and loans else None,
        "provision_coverage": ecl / npl if ecl is not None and npl else None,
    }


def quarantine_effect(quarantined: pd.DataFrame, rates: fx.NightRates, kpis: dict) -> dict:
    """What tonight's quarantined account_snapshots rows take out of the book: rows; the balance
    of those whose amount and currency can be read and converted, in the reporting currency, and
    how many cannot; the book with them (at most: a quarantined row may duplicate a loaded
    account); and whether the change in accounts since the previous night is within their
    effect."""
    rows = int(quarantined["rows"].sum()) if not quarantined.empty else 0
    balance, unreadable = 0.0, 0
    for row in quarantined.itertuples():
        rate = rates.rate(row.currency) if isinstance(row.currency, str) else None
        if rate is None:
            unreadable += int(row.rows)
            continue
        balance += float(row.balance) * rate
        unreadable += int(row.rows - row.rows_with_balance)
    accounts = kpis["accounts"]["tonight"]
    previous = kpis["accounts"]["previous_night"]
    book_balance = kpis["balance"]["tonight"]
    change = accounts - previous if previous is not None else None
    return {
        "rows": rows,
        "balance": balance,
        "rows_without_balance": unreadable,
        "accounts_with": accounts + rows,
        "balance_with": book_balance + balance if book_balance is not None else None,
        "accounts_change": change,
        "change_within": change is not None and rows > 0 and abs(change) <= rows,
    }


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _optional(conn, names: tuple[str, ...], night: date) -> dict | None:
    """The frames of an optional section, or None when its table is missing, empty for the night
    or not in the shape this report expects (logged: the section says "not available")."""
    frames = {}
    for name in names:
        try:
            frames[name] = query(conn, name, night=night)
        except duckdb.Error as error:
            log.warning("report section query %s failed, section left out: %s", name,
                        str(error).splitlines()[0])
            return None
    return frames


def gather(conn: duckdb.DuckDBPyConnection, night: date, assumptions: Assumptions) -> ReportData:
    """Read every figure of the night's report (the warehouse must hold the night's features)."""
    load_macros(conn)
    tables = present_tables(conn)
    if "portfolio_daily" not in tables:
        raise NoBookForNight("no portfolio_daily table: build the features first")
    history = query(conn, "portfolio_history", night=night)
    kpis, compared = _kpis(history, night)
    rates = fx.night_rates(conn, night)
    currency = rates.reporting_currency
    bucket_mix = query(conn, "bucket_mix", night=night, start_date=night, end_date=night,
                       reporting_currency=currency, lookback_days=fx.LOOKBACK_DAYS)
    by_currency = query(conn, "portfolio_by_currency", night=night)

    rolls = query(conn, "roll_rates_history", night=night) if "roll_rates" in tables else None
    matrices = markov.matrices_from_rows(rolls) if rolls is not None and len(rolls) else {}
    chain = markov.month_chain(matrices, night)
    latest = chain[-1] if chain else None
    month_earlier = latest.from_date if latest else one_month_earlier(night)
    flows = (query(conn, "flow_rates_night", night=night, month_earlier=month_earlier)
             if "flow_rates" in tables else pd.DataFrame())

    if latest is not None and latest.priced and not bucket_mix["balance"].isna().any():
        state = bucket_mix["bucket"].where(~bucket_mix["closed"].astype(bool), "closed")
        balance_start = (bucket_mix.groupby(state)["balance"].sum()
                         .reindex(markov.STATES, fill_value=0.0).to_numpy(dtype=float))
        projected = markov.forecast(latest.state_accounts(), latest.transition("accounts"),
                                    latest.new_accounts)
        projected_balance = markov.forecast(balance_start, latest.transition("balance"),
                                            latest.new_balance)
    elif latest is not None:  # a currency without a rate: the count chain only
        projected = markov.forecast(latest.state_accounts(), latest.transition("accounts"),
                                    latest.new_accounts)
        projected_balance = None
    else:
        projected = projected_balance = None
    backtest = markov.backtest(chain) if len(chain) > 1 else markov.backtest([])

    with_scores = warehouse.has_rows_for_night(conn, "account_scores", night, tables)
    ifrs9_figures = ifrs9.ifrs9_figures(conn, night, assumptions, chain, with_scores, rates)

    vintage = (query(conn, "vintage_night", night=night) if "vintage_curves" in tables
               else pd.DataFrame())

    optional = {
        "model": (_optional(conn, ("model_monitoring_history",), night)
                  if warehouse.has_rows_for_night(conn, "model_monitoring", night, tables) else None),
        "scores": _optional(conn, ("score_grades",), night) if with_scores else None,
        "tiers": (_optional(conn, ("collection_tiers", "collection_suppressions"), night)
                  if warehouse.has_rows_for_night(conn, "collection_tiers", night, tables) else None),
        "contacts": (_optional(conn, ("contact_history",), night)
                     if warehouse.has_rows_for_night(conn, "contact_history", night, tables) else None),
        "cures": (_optional(conn, ("cure_rates",), night)
                  if warehouse.has_rows_for_night(conn, "cure_rates", night, tables) else None),
        "credit_lines": (_optional(conn, ("credit_line_actions",), night)
                         if warehouse.has_rows_for_night(conn, "credit_line_actions", night, tables) else None),
    }
    quality = {
        "files": query(conn, "ingest_quality", night=night,
                       context={"ingest_log": book_table(conn, "ingest_log")})
        if "ingest_log" in tables else pd.DataFrame(),
        "quarantine": query(conn, "quarantine_by_rule", night=night,
                            context={"quarantine": book_table(conn, "quarantine")})
        if "quarantine" in tables else pd.DataFrame(),
    }
    quarantined = (query(conn, "quarantined_snapshots", night=night) if "quarantine" in tables
                   else pd.DataFrame(columns=["currency", "rows", "rows_with_balance", "balance"]))
    kpis.update({name: {"tonight": value, "previous_night": None, "month_earlier": None}
                 for name, value in provision_ratios(kpis, ifrs9_figures.total).items()})
    return ReportData(
        night=night, currency=currency, history=history, kpis=kpis, compared_nights=compared,
        bucket_mix=bucket_mix, matrices=matrices, chain=chain, flow_rates=flows,
        forecast=projected, forecast_balance=projected_balance, backtest=backtest,
        vintage=vintage, ecl=ifrs9_figures.total, exposure=ifrs9_figures.exposure,
        pd_source="model" if with_scores else "chain", chain_pd=ifrs9_figures.chain_pd,
        assumptions=assumptions, optional=optional, quality=quality, ifrs9=ifrs9_figures,
        rates=rates, by_currency=by_currency,
        quarantine_effect=quarantine_effect(quarantined, rates, kpis),
        degraded=night_status(conn, night),
        loop=report_sections.collect_all(conn, night, tables))
