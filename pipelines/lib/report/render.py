"""The risk report as self-contained HTML (charts inline, CSS inline, system fonts) and A4 PDF.

`build_report` gathers the figures once and writes one HTML and one PDF per language and edition:
`risk_report.<language>.html|pdf`, and on a month-end night also the month-end edition
`risk_report.month-end.<language>.html|pdf` (with a section on the last twelve month ends).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import numbers
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from multiprocessing import get_context
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import yaml
from markupsafe import Markup

from models.buckets import BUCKETS
from pipelines import settings
from pipelines.lib import definitions
from pipelines.lib.report import charts as chart_lib
from pipelines.lib.report import file_name, ifrs9, markov, printing
from pipelines.lib.report import formatting as fmt
from pipelines.lib.report import sections as report_sections
from pipelines.lib.report.figures import ReportData, gather, is_month_end
from pipelines.lib.report.ifrs9 import Assumptions, load_assumptions
from pipelines.lib.report.narrative import summary_sentences

log = logging.getLogger(__name__)

TEMPLATE_DIR = settings.TEMPLATES_DIR / "risk_report"
LANGUAGES = ("zh-CN", "en")
# page 1, labelled from pipelines/lib/definitions.py (the glossary's source too)
KPI_ROWS = (("book_accounts", "count"), ("book_balance", "money"),
            ("rate_30plus_accounts", "rate"), ("rate_60plus_accounts", "rate"),
            ("rate_90plus_accounts", "rate"), ("rate_30plus_balance", "rate"),
            ("rate_90plus_balance", "rate"), ("npl_balance", "money"), ("npl_ratio", "rate"),
            ("writeoff_accounts", "count"), ("writeoff_balance", "money"),
            ("new_writeoffs", "count"), ("new_writeoff_balance", "money"),
            ("writeoffs_month", "count"), ("writeoff_balance_month", "money"),
            ("provision_to_loans", "rate"), ("provision_coverage", "rate"),
            ("accounts", "count"), ("balance", "money"))
CURRENCY_COLUMNS = (("book_accounts", "count"), ("book_balance", "money"),
                    ("rate_30plus_accounts", "rate"), ("rate_90plus_accounts", "rate"),
                    ("rate_30plus_balance", "rate"), ("npl_ratio", "rate"),
                    ("writeoff_accounts", "count"), ("writeoff_balance", "money"),
                    ("month_writeoffs", "count"), ("month_writeoff_balance", "money"))


def report_languages() -> tuple[str, ...]:
    """`OVERDUE_REPORT_LANGUAGES` (comma-separated, e.g. `en`), default both."""
    chosen = tuple(x.strip() for x in settings.report_languages().split(",")
                   if x.strip()) or LANGUAGES
    unknown = [x for x in chosen if x not in LANGUAGES]
    if unknown:
        raise ValueError(f"OVERDUE_REPORT_LANGUAGES: unknown language(s) {unknown}; "
                         f"choose from {', '.join(LANGUAGES)}")
    return chosen


@functools.cache
def strings() -> dict:
    """strings.yaml, plus each `strings.d/<section>.yaml` (same languages) merged per language."""
    words = yaml.safe_load((TEMPLATE_DIR / "strings.yaml").read_text(encoding="utf-8"))
    for path in sorted((TEMPLATE_DIR / "strings.d").glob("*.yaml")):
        extra = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for language, entries in extra.items():
            clash = set(entries) & set(words[language])
            if clash:
                raise ValueError(f"{path.name}: keys already in strings.yaml: {sorted(clash)}")
            words[language].update(entries)
    return words


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
                                     autoescape=True, undefined=jinja2.StrictUndefined)
    environment.filters["css_string"] = css_string
    return environment


def css_string(value) -> Markup:
    """A quoted CSS string (for a margin box's content) that cannot end its <style> element."""
    escaped = "".join(f"\\{ord(c):x} " if c in '"\\<>&\n' or ord(c) < 32 else c
                      for c in str(value))
    return Markup(f'"{escaped}"')


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)  # right-aligned columns


@dataclass
class ReportFiles:
    night: date
    edition: str
    language: str
    html: Path
    pdf: Path
    charts: list[str]
    pdf_pages: int = 0


@dataclass
class ReportResult:
    night: date
    files: list[ReportFiles]
    data: ReportData
    seconds: dict
    pdf_engine: str | None = None  # chromium, weasyprint, or None when no PDF was asked for


def _value(value, kind: str, currency: str, language: str) -> str:
    if kind == "rate":
        return fmt.percent(value)
    if kind == "money":
        return fmt.money(value, currency)
    return fmt.number(value)


def kpi_table(data: ReportData, text: dict, language: str) -> Table:
    rows = []
    for key, kind in KPI_ROWS:
        figure = data.kpis[key]
        changes = [fmt.change(figure["tonight"], figure[when], kind)
                   for when in ("previous_night", "month_earlier")]
        rows.append([definitions.name(key, language),
                     _value(figure["tonight"], kind, data.currency, language),
                     *[text["kpi"]["from_zero"] if c == "new" else c for c in changes]])
    return Table([text["kpi"]["measure"], text["kpi"]["tonight"], text["kpi"]["previous_night"],
                  text["kpi"]["month_earlier"]], rows, {1, 2, 3})


def currency_table(data: ReportData, text: dict, language: str) -> Table | None:
    """Page 1: the book per currency, each in its own currency (never added up raw)."""
    frame = data.by_currency
    if frame.empty:
        return None
    label = {"month_writeoffs": "writeoffs_month",
             "month_writeoff_balance": "writeoff_balance_month"}
    headers = [text["currency"]] + [definitions.name(label.get(c, c), language)
                                    for c, _ in CURRENCY_COLUMNS]
    rows = [[row["currency"]] + [_value(row[c], kind, row["currency"], language)
                                 for c, kind in CURRENCY_COLUMNS]
            for _, row in frame.iterrows()]
    return Table(headers, rows, set(range(1, len(headers))))


def fx_note(data: ReportData, text: dict) -> dict:
    """Page 1: the rates the book total used, or which currencies have none (no total)."""
    currencies = list(data.by_currency["currency"]) if not data.by_currency.empty else []
    rates = data.rates
    missing = rates.missing(currencies) if rates else []
    return {"lines": rates.describe_all(currencies) if rates else [],
            "missing": text["fx_missing"].format(currencies=", ".join(missing),
                                                 currency=data.currency) if missing else "",
            "reporting": text["fx_reporting"].format(currency=data.currency)}


def quarantine_note(data: ReportData, text: dict, language: str) -> str:
    """Page 1: tonight's quarantined snapshot rows and what the book would be with them."""
    q = data.quarantine_effect
    if not q or not q["rows"]:
        return text["quarantine_kpi_none"]
    line = text["quarantine_kpi"].format(
        rows=fmt.number(q["rows"]), balance=fmt.money(q["balance"], data.currency),
        accounts_with=fmt.number(q["accounts_with"]),
        balance_with=fmt.money(q["balance_with"], data.currency))
    if q["rows_without_balance"]:
        line += text["quarantine_unreadable"].format(rows=fmt.number(q["rows_without_balance"]))
    if q["accounts_change"] is not None:
        key = "quarantine_within" if q["change_within"] else "quarantine_outside"
        line += text[key].format(change=f"{q['accounts_change']:+,.0f}")
    return line


def degraded_notice(data: ReportData, text: dict) -> str | None:
    """The notice at the top of a night the model stage could not score (degraded mode)."""
    if data.degraded is None:
        return None
    cause = text["degraded_causes"][data.degraded.cause]
    detail = f" ({data.degraded.detail})" if data.degraded.detail else ""
    return text["degraded_notice"].format(cause=cause + detail)


def glossary_table(text: dict, language: str) -> Table:
    return Table([text["glossary_figure"], text["glossary_definition"]],
                 [list(entry) for entry in definitions.glossary(language)])


def bucket_table(data: ReportData, text: dict) -> Table:
    mix = data.bucket_mix.groupby("bucket")[["accounts", "balance"]].sum().reindex(
        markov.BUCKETS, fill_value=0)
    if data.bucket_mix["balance"].isna().any():  # a currency without a rate: no balances
        mix["balance"] = float("nan")
    accounts = mix["accounts"].sum()
    balance = mix["balance"].sum(min_count=1)
    rows = [[bucket, fmt.number(row.accounts), fmt.percent(row.accounts / accounts if accounts
                                                          else None),
             fmt.money(row.balance, data.currency),
             fmt.percent(row.balance / balance if balance else None)]
            for bucket, row in mix.iterrows()]
    rows.append([text["table"]["total"], fmt.number(accounts), "100%",
                 fmt.money(balance, data.currency), "100%"])
    t = text["table"]
    return Table([t["bucket"], t["accounts"], t["share_accounts"], t["balance"],
                  t["share_balance"]], rows, {1, 2, 3, 4})


def flow_table(data: ReportData, text: dict) -> Table | None:
    flows = data.flow_rates
    if flows.empty:
        return None
    nights = sorted(flows["snapshot_date"].unique())
    latest = flows[flows["snapshot_date"] == nights[-1]].set_index("from_bucket")
    earlier = (flows[flows["snapshot_date"] == nights[0]].set_index("from_bucket")
               if len(nights) > 1 else None)
    rows = []
    for bucket, row in latest.iterrows():
        before = earlier.at[bucket, "flow_rate"] if earlier is not None else None
        rows.append([f"{bucket} → {row.to_bucket}", fmt.money(row.from_balance, data.currency),
                     fmt.percent(row.flow_rate), fmt.percent(before),
                     fmt.percent(row.chained_flow_to_writeoff)])
    names = {"zh-CN": ["流转", "月初余额", "本期流转率", "上期流转率", "链式流转至核销"],
             "en": ["Flow", "Balance a month earlier", "Flow rate", "A month earlier",
                    "Chained to write-off"]}[text["lang"]]
    return Table(names, rows, {1, 2, 3, 4})


def forecast_table(data: ReportData, text: dict, language: str) -> Table | None:
    if data.forecast is None:
        return None
    t = text["table"]
    now = data.chain[-1].state_accounts()
    rows = [[text["axis"]["tonight"], fmt.percent(markov.rate_30plus(now)), "–", "–"]]
    for k, state in enumerate(data.forecast.states, start=1):
        rows.append([text["axis"]["month_ahead"].format(n=k), fmt.percent(data.forecast.rate_30plus(k)),
                     fmt.number(data.forecast.writeoffs[k - 1]),
                     fmt.money(data.forecast_balance.writeoffs[k - 1]
                               if data.forecast_balance else None, data.currency)])
    return Table([t["month_ahead"], t["mix_30plus"], t["writeoff_accounts"],
                  t["writeoff_balance"]], rows, {1, 2, 3})


def backtest_tables(data: ReportData, text: dict) -> tuple[Table, Table] | None:
    frame = data.backtest
    if frame.empty:
        return None
    t = text["table"]
    detail = Table(
        [t["origin"], t["months_ahead"], t["target"], t["forecast_30plus"], t["actual_30plus"],
         t["error"], t["forecast_writeoffs"], t["actual_writeoffs"]],
        [[str(r.origin), str(r.months_ahead), str(r.target), fmt.percent(r.forecast_30plus),
          fmt.percent(r.actual_30plus), fmt.points(r.error_30plus),
          fmt.number(r.forecast_writeoffs), fmt.number(r.actual_writeoffs)]
         for r in frame.tail(12).itertuples(index=False)], {1, 3, 4, 5, 6, 7})
    summary = frame.groupby("months_ahead")["error_30plus"].apply(lambda e: e.abs().mean())
    mae = Table([t["months_ahead"], t["mae"]],
                [[str(k), fmt.points(v).lstrip("+")] for k, v in summary.items()], {0, 1})
    return detail, mae


VINTAGE_MOBS = (1, 3, 6, 9, 12)


def vintage_table(data: ReportData, text: dict) -> Table | None:
    """Per vintage: its size, the bad rate by count at a few MOBs and the latest by count and by
    balance. A censored or not yet reached cell is blank, never 0."""
    frame = data.vintage
    if frame.empty:
        return None
    t = text["table"]
    rows = []
    for month, cells in frame.groupby("open_month", sort=True):
        cells = cells.set_index("months_on_book")
        first = int(cells["first_observed_mob"].iloc[0])
        latest = cells.iloc[-1]

        def rate(value):
            return "" if fmt.missing(value) or pd.isna(value) else fmt.percent(value)
        rows.append([pd.Timestamp(month).strftime("%Y-%m") + (" *" if first > 0 else ""),
                     fmt.number(latest.accounts), fmt.money(latest.balance, data.currency),
                     str(first),
                     *[rate(cells.at[m, "share_ever_30plus"]) if m in cells.index else ""
                       for m in VINTAGE_MOBS],
                     f"{rate(latest.share_ever_30plus)} ({t['mob_n'].format(n=int(cells.index[-1]))})",
                     rate(latest.share_ever_30plus_balance)])
    return Table([t["open_month"], t["accounts"], t["balance"], t["first_observed_mob"],
                  *[t["mob_n"].format(n=m) for m in VINTAGE_MOBS], t["latest_by_accounts"],
                  t["latest_by_balance"]], rows, set(range(1, 6 + len(VINTAGE_MOBS))))


def _stage_table(frame: pd.DataFrame, text: dict, currency: str) -> Table:
    t, i = text["table"], text["ifrs9"]
    return Table([t["stage"], t["accounts"], t["balance"], i["ead"], i["ecl"], i["coverage"]],
                 [[text["stages"][str(r.stage)], fmt.number(r.accounts),
                   fmt.money(r.balance, currency), fmt.money(r.ead, currency),
                   fmt.money(r.ecl, currency), fmt.percent(r.coverage)]
                  for r in frame.itertuples(index=False)], {1, 2, 3, 4, 5})


def ecl_tables(data: ReportData, text: dict) -> dict | None:
    """Section 8: stages per currency, the book total in the reporting currency (when every rate
    is there), scenarios, stage transfers, the ECL backtest, assumptions, chain PDs and notes."""
    figures = data.ifrs9
    if figures is None:
        return None
    t, i, a = text["table"], text["ifrs9"], data.assumptions
    reporting = figures.reporting_currency
    currencies = [
        (i["by_currency"].format(currency=c),
         _stage_table(figures.by_currency[figures.by_currency["currency"] == c], text, c))
        for c in figures.currencies]
    total = (None if figures.missing_rates or not figures.currencies else
             (i["book_total"].format(currency=reporting),
              _stage_table(figures.total, text, reporting)))
    scenario_rows = []
    for r in figures.scenarios.itertuples(index=False):
        row = r._asdict()
        label = i["weighted"] if r.scenario == "weighted" else fmt.label(r.scenario, text)
        scenario_rows.append([label, fmt.number(row["weight"], 2)]
                             + [fmt.money(row[c], c) for c in figures.currencies]
                             + ([] if total is None else [fmt.money(row["total"], reporting)]))
    scenarios = Table([i["scenario"], i["weight"]]
                      + [f"ECL {c}" for c in figures.currencies]
                      + ([] if total is None else [i["scenario_total"].format(currency=reporting)]),
                      scenario_rows, set(range(1, 3 + len(figures.currencies))))
    states = i["states"]

    def matrix(frame: pd.DataFrame, money: str | None) -> Table:
        if money:  # balances are a month earlier's: a new account had none
            frame = frame.drop(index="new")
        return Table([i["from_to"], *[states[c] for c in frame.columns]],
                     [[states[state], *[fmt.money(v, money) if money else fmt.number(v)
                                        for v in frame.loc[state]]]
                      for state in frame.index],
                     set(range(1, len(frame.columns) + 1)))

    earlier = figures.month_earlier
    transfers = [(i["transfer_accounts"], matrix(ifrs9.transfer_matrix(figures.transfer), None))]
    transfers += [(i["transfer_balance"].format(earlier=earlier, currency=c),
                   matrix(ifrs9.transfer_matrix(figures.transfer, "balance_then", c), c))
                  for c in sorted(figures.transfer["currency"].unique())]
    backtest = Table([i["measure"], i["unit"], i["expected"], i["actual"], i["ratio"]],
                     [[i["measures"][r.measure],
                       i["accounts"] if r.unit == "accounts" else r.unit,
                       fmt.number(r.expected, 1) if r.unit == "accounts"
                       else fmt.money(r.expected, r.unit),
                       fmt.number(r.actual) if r.unit == "accounts"
                       else fmt.money(r.actual, r.unit),
                       fmt.number(r.ratio, 2)]
                      for r in figures.backtest.itertuples(index=False)], {2, 3, 4})
    treatment = i["treatments"][a.written_off_ecl]
    words = text["assumption_labels"]
    assumptions = Table(
        [text["assumptions"], t["value"]],
        [[f"{text['lgd']}: {fmt.label(product, text)}", fmt.percent(value, 0)]
         for product, value in a.lgd.items()]
        + [[text["ccf"], fmt.percent(a.ccf, 0)],
           [f"{words['stage_2_from_bucket']} / {words['stage_3_from_bucket']}",
            f"{a.stage_2_from_bucket} / {a.stage_3_from_bucket}"],
           [f"{words['pd_12m_months']} / {words['lifetime_months']}",
            f"{a.pd_12m_months} / {a.lifetime_months}"]]
        + [[f"{i['eir']}: {fmt.label(product, text)}", fmt.percent(value, 1)]
           for product, value in a.eir.items()]
        + [[i["recovery"], str(a.stage_3_recovery_months)], [i["written_off_ecl"], treatment]]
        + [[f"{i['scenario']}: {fmt.label(s.name, text)}",
            i["scenario_terms"].format(weight=f"{s.weight:g}", pd=f"{s.pd_multiplier:g}",
                                       lgd=f"{s.lgd_multiplier:g}")] for s in a.scenarios],
        {1})
    chain_pd = Table([t["bucket"], t["pd_12m"], t["pd_lifetime"]],
                     [[b, fmt.percent(data.chain_pd["12m"][b]),
                       fmt.percent(data.chain_pd["lifetime"][b])]
                      for b in markov.BUCKETS if b != "WO"] if data.chain_pd else [], {1, 2})
    eir = {"landed": 0, "configured": 0} | {k: int(v) for k, v in figures.eir_accounts.items()}
    notes = {
        "discounting": i["discounting"].format(
            months12=a.pd_12m_months, lifetime=a.lifetime_months,
            recovery=a.stage_3_recovery_months, landed=fmt.number(eir["landed"]),
            configured=fmt.number(eir["configured"])),
        "written_off": i["written_off_excluded" if a.written_off_ecl == "excluded"
                         else "written_off_measured"] + " " + i["total_note"],
        "currency": (i["no_total"].format(currencies=", ".join(figures.missing_rates),
                                          reporting=reporting) if figures.missing_rates
                     else i["rates_used"].format(rates="; ".join(figures.rate_lines))
                     if figures.rate_lines else ""),
        "transfer": i["transfer_note"].format(
            earlier=earlier, staging=i["earlier_by_scores" if figures.earlier_staged_by_scores
                                       else "earlier_by_buckets"]),
        "backtest": i["backtest_note"].format(earlier=earlier) if backtest.rows
        else i["backtest_none"],
    }
    return {"currencies": currencies, "total": total, "scenarios": scenarios,
            "transfers": transfers, "backtest": backtest if backtest.rows else None,
            "assumptions": assumptions, "chain_pd": chain_pd, "notes": notes}


def _frame_table(frame: pd.DataFrame, text: dict, money_columns=(), rate_columns=()) -> Table:
    """A small warehouse frame as a table: headers translated, numbers formatted."""
    headers = [text["table"].get(c) or text["columns"].get(c, c) for c in frame.columns]
    numeric = {i for i, c in enumerate(frame.columns)
               if pd.api.types.is_numeric_dtype(frame[c])}
    rows = []
    for record in frame.itertuples(index=False):
        row = []
        for column, value in zip(frame.columns, record):
            if column in rate_columns:
                row.append(fmt.percent(value))
            elif column in money_columns:
                row.append(fmt.money(value))
            elif isinstance(value, bool | np.bool_) or value is None or value is pd.NA:
                row.append("" if value is None or value is pd.NA else str(value))
            elif isinstance(value, numbers.Integral):
                row.append(fmt.number(value))
            elif isinstance(value, numbers.Real):
                row.append(fmt.number(value, 4 if abs(value) < 10 else 0))
            else:
                row.append(fmt.label(value, text))  # statuses, channels, rules: in words
        rows.append(row)
    return Table(headers, rows, numeric)


BUCKET_FIGURES = {"rows": "rows", "positives": "positives", "auc": "auc_in_bucket",
                  "ks": "ks_in_bucket"}


def bucket_discrimination(night: pd.DataFrame) -> pd.DataFrame | None:
    """AUC and KS inside each bucket beside the whole monitoring window's, with the rows and
    positives they rest on and the AUC's status (one night of model_monitoring rows): the overall
    AUC is mostly the bucket itself, and collectors rank accounts inside one bucket."""
    if not night["measure"].isin(["auc_in_bucket", "ks_in_bucket"]).any():
        return None
    records = []
    for subject in ["matured", *BUCKETS]:
        rows = night[night["subject"] == subject].set_index("measure")
        if rows.empty:
            continue
        figures = ({"rows": "rows", "positives": "positives", "auc": "auc", "ks": "ks"}
                   if subject == "matured" else BUCKET_FIGURES)
        record = {"bucket": subject}
        for column, measure in figures.items():
            record[column] = rows["value"].get(measure)
        status = rows["status"].get(figures["auc"])
        record["status"] = "not_judged" if pd.isna(status) else status
        records.append(record)
    frame = pd.DataFrame(records)
    for column in ("rows", "positives"):
        frame[column] = pd.to_numeric(frame[column]).round().astype("Int64")
    for column in ("auc", "ks"):
        frame[column] = pd.to_numeric(frame[column]).astype("float64")
    return frame


def model_tables(data: ReportData, text: dict, registry_dir: Path | None) -> dict:
    tables = dict.fromkeys(("psi", "metrics", "buckets", "grades", "registry"))
    section = data.optional.get("model")
    if section is not None:
        frame = section["model_monitoring_history"]
        night = frame[pd.to_datetime(frame["snapshot_date"]).dt.date == data.night]
        psi = night[night["measure"] == "psi"][["subject", "value", "status", "model_version"]]
        if not psi.empty:
            tables["psi"] = _frame_table(psi, text)
        latest = night[night["measure"].isin(["auc", "ks", "brier"])][
            ["measure", "subject", "value", "model_version"]]
        if not latest.empty:
            tables["metrics"] = _frame_table(latest, text)
        buckets = bucket_discrimination(night)
        if buckets is not None:
            tables["buckets"] = _frame_table(buckets, text)
    scores = data.optional.get("scores")
    if scores is not None:
        tables["grades"] = _frame_table(scores["score_grades"], text,
                                        rate_columns=("mean_probability",))
    registry = _registry_history(registry_dir)
    if registry is not None:
        tables["registry"] = _frame_table(registry, text)
    return tables


def _registry_history(registry_dir: Path | None) -> pd.DataFrame | None:
    """Champion/challenger history from the model registry's event log (no model is loaded)."""
    if registry_dir is None or not (Path(registry_dir) / "events.jsonl").is_file():
        return None
    from models.registry import ModelRegistry

    events = ModelRegistry(registry_dir).events()
    rows = [{"at": str(e.get("at", ""))[:19], "event": e.get("event", ""),
             "version": e.get("version", ""), "by": e.get("by", "")}
            for e in events if e.get("event") in ("registered", "promoted", "rolled_back", "gate")]
    return pd.DataFrame(rows[-15:]) if rows else None


def cure_table(frame: pd.DataFrame, text: dict) -> Table:
    """Paid and cured within 7 days of the 7-day cohort and within 30 days of the 30-day cohort,
    each cohort's size beside its rates (the two cohorts are different contact nights)."""
    t = text["table"]
    cohort_30d = frame["contacts_30d"] if "contacts_30d" in frame else frame["contacts"]

    def share(count, cohort):
        rate = count / cohort if cohort else None
        return f"{fmt.number(count)} ({fmt.percent(rate)})"
    rows = [[fmt.label(r.tier, text), fmt.label(r.treatment, text), fmt.number(r.contacts),
             share(r.paid_7d, r.contacts), share(r.cured_7d, r.contacts), fmt.number(size),
             share(r.paid_30d, size), share(r.cured_30d, size)]
            for r, size in zip(frame.itertuples(index=False), cohort_30d)]
    return Table([t["tier"], t["treatment"], t["cohort_7d"], t["paid_7d"], t["cured_7d"],
                  t["cohort_30d"], t["paid_30d"], t["cured_30d"]], rows, {2, 3, 4, 5, 6, 7})


def collections_tables(data: ReportData, text: dict) -> dict:
    tables = dict.fromkeys(("tiers", "suppressions", "contacts", "cures", "credit_lines"))
    if data.optional.get("tiers") is not None:
        tables["tiers"] = _frame_table(data.optional["tiers"]["collection_tiers"], text)
        tables["suppressions"] = _frame_table(
            data.optional["tiers"]["collection_suppressions"].rename(
                columns={"suppression_reason": "reason"}), text)
    if data.optional.get("contacts") is not None:
        tables["contacts"] = _frame_table(data.optional["contacts"]["contact_history"], text)
    if data.optional.get("cures") is not None:
        tables["cures"] = cure_table(data.optional["cures"]["cure_rates"], text)
    if data.optional.get("credit_lines") is not None:
        # one row per currency and action: amounts in the row's currency, never summed across
        tables["credit_lines"] = _frame_table(
            data.optional["credit_lines"]["credit_line_actions"], text,
            money_columns=("credit_limit", "undrawn_limit", "exposure_removed"))
    return tables


def quality_tables(data: ReportData, text: dict) -> dict:
    files = data.quality.get("files", pd.DataFrame())
    quarantine = data.quality.get("quarantine", pd.DataFrame())
    return {
        "files": _frame_table(files.rename(columns={"message": "status_note"}), text)
        if not files.empty else None,
        "quarantine": _frame_table(quarantine.rename(columns={"column_name": "column"}), text)
        if not quarantine.empty else None,
    }


def month_end_table(data: ReportData, text: dict) -> Table:
    book = data.history[data.history["product"] == "all"].copy()
    book["night"] = pd.to_datetime(book["snapshot_date"]).dt.date
    ends = book[book["night"].map(is_month_end) | (book["night"] == data.night)].tail(12)
    columns = ("book_accounts", "book_balance", "rate_30plus_accounts", "rate_90plus_accounts",
               "rate_30plus_balance", "npl_ratio", "writeoff_balance")
    return Table(
        [text["table"]["month"]] + [definitions.name(c, text["lang"]) for c in columns],
        [[str(r.night), fmt.number(r.book_accounts), fmt.money(r.book_balance, data.currency),
          fmt.percent(r.rate_30plus_accounts), fmt.percent(r.rate_90plus_accounts),
          fmt.percent(r.rate_30plus_balance), fmt.percent(r.npl_ratio),
          fmt.money(r.writeoff_balance, data.currency)] for r in ends.itertuples(index=False)],
        set(range(1, len(columns) + 1)))


def render_html(data: ReportData, language: str, edition: str, registry_dir: Path | None = None,
                drawn: dict | None = None) -> tuple[str, list[str]]:
    """The report page for one language and edition; returns (html, chart keys drawn).

    `drawn`: the language's charts when already drawn (editions share them).
    """
    text = strings()[language]
    drawn = drawn if drawn is not None else chart_lib.all_charts(data, text, language)
    a = data.assumptions
    context = {
        "s": text,
        "language": language,
        "edition": edition,
        "night": data.night,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "currency": data.currency,
        "compared": data.compared_nights,
        "kpis": kpi_table(data, text, language),
        "by_currency": currency_table(data, text, language),
        "fx": fx_note(data, text),
        "quarantine_note": quarantine_note(data, text, language),
        "degraded_notice": degraded_notice(data, text),
        "glossary": glossary_table(text, language),
        "sentences": summary_sentences(data, language),
        "charts": {k: [_chart_context(c) for c in v] for k, v in drawn.items()},
        "buckets": bucket_table(data, text),
        "flows": flow_table(data, text),
        "forecast": forecast_table(data, text, language),
        "forecast_note": text["forecast_note"].format(
            from_date=data.chain[-1].from_date, night=data.night) if data.chain else "",
        "backtest": backtest_tables(data, text),
        "vintages": vintage_table(data, text),
        "ecl": ecl_tables(data, text),
        "stage_rule": text["stage_rule"].format(
            stage2=a.stage_2_from_bucket, stage3=a.stage_3_from_bucket,
            sicr=text["sicr_early_warning"] if a.early_warning_is_significant_increase else ""),
        "pd_note": (text["pd_source_model"] if data.pd_source == "model"
                    else text["pd_source_chain"].format(months12=a.pd_12m_months,
                                                        lifetime=a.lifetime_months)),
        "model": model_tables(data, text, registry_dir),
        "model_available": data.optional.get("model") is not None
        or data.optional.get("scores") is not None,
        "collections": collections_tables(data, text),
        "loop_sections": report_sections.render_contexts(data.loop, text, language,
                                                         data.currency),
        "quality": quality_tables(data, text),
        "month_end": month_end_table(data, text) if edition == "month-end" else None,
        "css": Markup((TEMPLATE_DIR / "report.css").read_text(encoding="utf-8")),
    }
    html = _environment().get_template("report.html.j2").render(**context)
    return html, [c.key for section in drawn.values() for c in section]


def _chart_context(chart: chart_lib.Chart) -> dict:
    return {"key": chart.key, "title": chart.title, "units": chart.units,
            "caption": chart.caption, "svg": Markup(chart.svg)}


def write_pdf(html: str, path: Path) -> int:
    """Render with WeasyPrint (A4, fonts from the system); returns the number of pages."""
    return printing.weasyprint_pdf(html, path, base_url=str(TEMPLATE_DIR))


def _render_language(job) -> tuple[list[tuple], float, float]:
    """Charts, HTML (and with WeasyPrint the PDF) of one language, every edition:
    (files, render seconds, PDF seconds)."""
    data, language, editions, registry_dir, out_dir, weasyprint = job
    t0 = time.perf_counter()
    drawn_charts = chart_lib.all_charts(data, strings()[language], language)
    files, render_seconds, pdf_seconds = [], time.perf_counter() - t0, 0.0
    for edition in editions:
        t0 = time.perf_counter()
        html, drawn = render_html(data, language, edition, registry_dir, drawn_charts)
        html_path = out_dir / file_name(language, edition, "html")
        html_path.write_text(html, encoding="utf-8")
        t1 = time.perf_counter()
        pdf_path = out_dir / file_name(language, edition, "pdf")
        pages = write_pdf(html, pdf_path) if weasyprint else 0
        render_seconds += t1 - t0
        pdf_seconds += time.perf_counter() - t1
        files.append((edition, language, html_path, pdf_path, drawn, pages))
    return files, render_seconds, pdf_seconds


def build_report(conn, night: date, out_dir: Path, *, languages: tuple[str, ...] | None = None,
                 assumptions: Assumptions | None = None, registry_dir: Path | None = None,
                 pdf: bool = True, workers: int | None = None) -> ReportResult:
    """Gather the night's figures and write every language and edition of the report.

    Languages render in parallel processes (charts and WeasyPrint's layout are single-threaded
    Python; the figures are gathered once). With Chromium (`printing.engine()`), this process
    starts one browser while the languages render and prints each language's HTML as it lands.
    """
    started = time.perf_counter()
    data = gather(conn, night, assumptions or load_assumptions())
    seconds = {"gather": time.perf_counter() - started}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    editions = ["nightly"] + (["month-end"] if is_month_end(night) else [])
    engine = printing.engine() if pdf else None
    jobs = [(data, language, editions, registry_dir, out_dir, engine == "weasyprint")
            for language in languages or report_languages()]
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    results = []
    with contextlib.ExitStack() as stack:
        if workers == 1:
            pending = None
        else:
            pool = stack.enter_context(
                ProcessPoolExecutor(workers, mp_context=get_context("spawn")))
            pending = [pool.submit(_render_language, job) for job in jobs]
        # the browser starts while the languages render
        printer = printing.start(stack, engine) if engine == "chromium" else None
        if printer is not None:
            engine = printer.engine
        for k, job in enumerate(jobs):
            files, render_seconds, pdf_seconds = (
                pending[k].result() if pending else _render_language(job))
            if printer is not None:
                t0 = time.perf_counter()
                files = [(*f[:5], printer.print(f[2], f[3])) for f in files]
                pdf_seconds += time.perf_counter() - t0
            results.append((files, render_seconds, pdf_seconds))
    by_key = {(edition, language): (html_path, pdf_path, drawn, pages)
              for files, _, _ in results
              for edition, language, html_path, pdf_path, drawn, pages in files}
    files = []
    for edition in editions:
        for job in jobs:
            language = job[1]
            html_path, pdf_path, drawn, pages = by_key[(edition, language)]
            files.append(ReportFiles(night, edition, language, html_path, pdf_path, drawn, pages))
            log.info("risk report %s %s %s: %s (%d charts, %d PDF pages)", night, edition,
                     language, html_path, len(drawn), pages)
    seconds |= {"html": sum(r[1] for r in results), "pdf": sum(r[2] for r in results),
                "total": time.perf_counter() - started}
    return ReportResult(night, files, data, seconds, engine)
