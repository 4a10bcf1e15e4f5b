"""IFRS 9 staging, expected credit loss, stage transfers and an ECL backtest (DOMAIN §1).

ECL is probability-weighted over the scenarios and discounted: for each account, LGD x EAD x the
sum over months of the roll chain's marginal write-off probability x DF(month), DF = (1 + EIR /
12)^-month; months 1..12 in stage 1, the lifetime in stage 2; stage 3 has PD = 1, discounted over
the stated recovery horizon. Written-off accounts are not a stage: their own row, measured or
excluded as the assumptions say. Every amount is per currency; a book total is converted into the
reporting currency (pipelines.lib.fx) and left out when a rate is missing.

Every assumption comes from a small YAML file printed in the report:
`reports/risk_report/assumptions.yaml`, or `$OVERDUE_REPORT_ASSUMPTIONS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from pipelines import settings
from pipelines.lib import fx, warehouse
from pipelines.lib.report.markov import BUCKETS, STATES, WO, monthly_writeoff_probabilities

DEFAULT_ASSUMPTIONS = settings.TEMPLATES_DIR / "risk_report" / "assumptions.yaml"
WRITTEN_OFF = "written_off"
STAGE_ROWS = (1, 2, 3, WRITTEN_OFF)
WRITTEN_OFF_TREATMENTS = ("excluded", "lgd_on_balance")
TRANSFER_FROM = ("new", "1", "2", "3", WRITTEN_OFF, "closed")
TRANSFER_TO = ("1", "2", "3", WRITTEN_OFF, "closed", "gone")
AMOUNTS = ("balance", "ead", "pd_ead", "ecl_undiscounted", "ecl")


@dataclass(frozen=True)
class Scenario:
    name: str
    weight: float
    pd_multiplier: float
    lgd_multiplier: float = 1.0


@dataclass(frozen=True)
class Assumptions:
    stage_2_from_bucket: str
    stage_3_from_bucket: str
    early_warning_is_significant_increase: bool
    lgd: dict[str, float]
    ccf: float
    pd_12m_months: int
    lifetime_months: int
    eir: dict[str, float] = field(default_factory=lambda: {"default": 0.0})
    scenarios: tuple[Scenario, ...] = (Scenario("base", 1.0, 1.0),)
    written_off_ecl: str = "excluded"
    stage_3_recovery_months: int = 0
    source: str = ""

    def lgd_for(self, product: str) -> float:
        return float(self.lgd.get(product, self.lgd["default"]))

    def stage(self, bucket: str, early_warning: bool = False) -> int | str:
        """The stage of an account in `bucket` (the rule of sql/report/ifrs9_exposure.sql)."""
        if bucket == "WO":
            return WRITTEN_OFF
        rank = BUCKETS.index(bucket)
        if rank >= BUCKETS.index(self.stage_3_from_bucket):
            return 3
        if rank >= BUCKETS.index(self.stage_2_from_bucket) or (
                early_warning and self.early_warning_is_significant_increase):
            return 2
        return 1


def load_assumptions(path: Path | None = None) -> Assumptions:
    path = Path(path or settings.report_assumptions() or DEFAULT_ASSUMPTIONS)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = []
    scenarios = []
    for name, spec in (raw.get("scenarios") or {"base": {"weight": 1, "pd_multiplier": 1}}).items():
        try:
            scenarios.append(Scenario(str(name), float(spec["weight"]),
                                      float(spec["pd_multiplier"]),
                                      float(spec.get("lgd_multiplier", 1.0))))
        except (KeyError, TypeError, ValueError):
            problems.append(f"scenario {name} needs a numeric weight and pd_multiplier")
    assumptions = Assumptions(
        stage_2_from_bucket=str(raw["stage_2_from_bucket"]),
        stage_3_from_bucket=str(raw["stage_3_from_bucket"]),
        early_warning_is_significant_increase=bool(raw["early_warning_is_significant_increase"]),
        lgd={str(k): float(v) for k, v in raw["lgd"].items()},
        ccf=float(raw["ccf"]),
        pd_12m_months=int(raw["pd_12m_months"]),
        lifetime_months=int(raw["lifetime_months"]),
        eir={str(k): float(v) for k, v in (raw.get("effective_interest_rate")
                                           or {"default": 0.0}).items()},
        scenarios=tuple(scenarios),
        written_off_ecl=str(raw.get("written_off_ecl", "excluded")),
        stage_3_recovery_months=int(raw.get("stage_3_recovery_months", 0)),
        source=str(path),
    )
    for key in ("stage_2_from_bucket", "stage_3_from_bucket"):
        if getattr(assumptions, key) not in BUCKETS[:-1]:
            problems.append(f"{key} must be one of {', '.join(BUCKETS[:-1])}")
    if not problems and BUCKETS.index(assumptions.stage_2_from_bucket) > BUCKETS.index(
            assumptions.stage_3_from_bucket):
        problems.append("stage_2_from_bucket comes after stage_3_from_bucket")
    if "default" not in assumptions.lgd:
        problems.append("lgd needs a `default`")
    if not all(0 <= v <= 1 for v in [*assumptions.lgd.values(), assumptions.ccf]):
        problems.append("lgd and ccf are shares between 0 and 1")
    if "default" not in assumptions.eir:
        problems.append("effective_interest_rate needs a `default`")
    if not all(0 <= v < 1 for v in assumptions.eir.values()):
        problems.append("effective_interest_rate is an annual share between 0 and 1")
    if not 1 <= assumptions.pd_12m_months <= assumptions.lifetime_months:
        problems.append("pd_12m_months must be between 1 and lifetime_months")
    if assumptions.written_off_ecl not in WRITTEN_OFF_TREATMENTS:
        problems.append(f"written_off_ecl must be one of {', '.join(WRITTEN_OFF_TREATMENTS)}")
    if assumptions.stage_3_recovery_months < 0:
        problems.append("stage_3_recovery_months must be 0 or more")
    if scenarios:
        total = sum(s.weight for s in scenarios)
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            problems.append(f"scenario weights sum to {total:g}, not 1")
        if any(s.weight < 0 or s.pd_multiplier <= 0 or s.lgd_multiplier <= 0 for s in scenarios):
            problems.append("scenario weights are >= 0 and multipliers > 0")
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return assumptions


def chain_marginal(transition: np.ndarray | None, assumptions: Assumptions) -> dict:
    """Bucket -> marginal write-off probability of months 1..lifetime (empty without a chain)."""
    if transition is None:
        return {}
    return monthly_writeoff_probabilities(transition, assumptions.lifetime_months)


def exposure(conn, night: date, assumptions: Assumptions, marginal: dict, with_scores: bool,
             with_eir: bool) -> pd.DataFrame:
    """The rows of sql/report/ifrs9_exposure.sql, every scenario, amounts per currency."""
    curve = pd.DataFrame(
        [{"bucket": b, "month": m + 1, "marginal": float(p)}
         for b, by_month in marginal.items() for m, p in enumerate(by_month)],
        columns=["bucket", "month", "marginal"]).astype(
        {"bucket": str, "month": "int64", "marginal": float})
    products = pd.DataFrame(
        [{"product": p, "lgd": assumptions.lgd.get(p), "eir": assumptions.eir.get(p)}
         for p in sorted(set(assumptions.lgd) | set(assumptions.eir))]).astype(
        {"product": str, "lgd": float, "eir": float})
    scenarios = pd.DataFrame(
        [{"scenario": s.name, "pd_multiplier": s.pd_multiplier, "lgd_multiplier": s.lgd_multiplier}
         for s in assumptions.scenarios]).astype(
        {"scenario": str, "pd_multiplier": float, "lgd_multiplier": float})
    inputs = {"chain_marginal": curve, "ecl_products": products, "ecl_scenarios": scenarios}
    for name, frame in inputs.items():
        conn.register(name, frame)
    try:
        frame = warehouse.query(conn, "report/ifrs9_exposure", {
            "night": night, "ccf": assumptions.ccf,
            "stage_2_rank": BUCKETS.index(assumptions.stage_2_from_bucket),
            "stage_3_rank": BUCKETS.index(assumptions.stage_3_from_bucket),
            "pd_12m_months": assumptions.pd_12m_months,
            "lifetime_months": assumptions.lifetime_months,
            "recovery_months": assumptions.stage_3_recovery_months,
            "written_off_in_ecl": assumptions.written_off_ecl == "lgd_on_balance",
        }, with_scores=with_scores, with_eir=with_eir)
    finally:
        for name in inputs:
            conn.unregister(name)
    frame["stage"] = frame["stage"].map(lambda s: WRITTEN_OFF if s == WRITTEN_OFF else int(s))
    for column in ("accounts", *AMOUNTS, "undrawn"):
        frame[column] = frame[column].astype(float)
    return frame


def weighted(exposure_rows: pd.DataFrame, assumptions: Assumptions) -> pd.DataFrame:
    """One row per (currency, stage, product, bucket, eir_source): the book as it is, and PD x
    EAD and ECL as the probability-weighted sum over the scenarios."""
    keys = ["currency", "stage", "product", "bucket", "eir_source"]
    weights = {s.name: s.weight for s in assumptions.scenarios}
    rows = exposure_rows.copy()
    first = assumptions.scenarios[0].name
    book = rows[rows["scenario"] == first].set_index(keys)[["accounts", "balance", "undrawn",
                                                            "ead"]]
    for column in ("pd_ead", "ecl_undiscounted", "ecl"):
        rows[column] = rows[column] * rows["scenario"].map(weights)
    losses = rows.groupby(keys)[["pd_ead", "ecl_undiscounted", "ecl"]].sum()
    return book.join(losses).reset_index()


def _by_stage(rows: pd.DataFrame) -> pd.DataFrame:
    """Stage rows 1, 2, 3, written_off and `all` (the sum of the four) of weighted rows."""
    frame = (rows.groupby("stage", sort=False)[["accounts", *AMOUNTS]].sum()
             .reindex(list(STAGE_ROWS), fill_value=0.0).astype(float))
    frame.loc["all"] = frame.sum()
    ead = frame["ead"].where(frame["ead"] > 0)
    frame["mean_pd"] = frame["pd_ead"] / ead
    frame["coverage"] = frame["ecl"] / ead
    total = frame.loc["all", "balance"]
    frame["share_of_balance"] = frame["balance"] / total if total else 0.0
    return frame.reset_index(names="stage")


def ecl_by_currency(exposure_rows: pd.DataFrame, assumptions: Assumptions) -> pd.DataFrame:
    """Per currency, the stage rows of `expected_credit_loss` in that currency."""
    rows = weighted(exposure_rows, assumptions)
    frames = [_by_stage(part).assign(currency=currency)
              for currency, part in rows.groupby("currency", sort=True)]
    if not frames:
        return _by_stage(rows).assign(currency="").iloc[0:0]
    return pd.concat(frames, ignore_index=True)


def expected_credit_loss(exposure_rows: pd.DataFrame, assumptions: Assumptions,
                         rates: fx.NightRates | None = None) -> pd.DataFrame:
    """ECL by stage (1, 2, 3, written_off, all) in the reporting currency: accounts, balance,
    ead, pd_ead, ecl_undiscounted, ecl (probability-weighted, discounted), mean_pd (EAD-weighted),
    coverage (ECL / EAD), share_of_balance. Amounts are NaN when a currency has no rate; without
    `rates` the book must hold a single currency."""
    rows = weighted(exposure_rows, assumptions)
    currencies = sorted(rows["currency"].unique())
    if rates is None:
        if len(currencies) > 1:
            raise ValueError(f"ECL in {', '.join(currencies)}: a total needs exchange rates")
        return _by_stage(rows)
    missing = rates.missing(currencies)
    factor = rows["currency"].map(lambda c: rates.rate(c) if c not in missing else math.nan)
    converted = rows.assign(**{c: rows[c] * factor for c in AMOUNTS})
    return _by_stage(converted) if not missing else _by_stage(converted).assign(
        **{c: math.nan for c in (*AMOUNTS, "mean_pd", "coverage", "share_of_balance")})


def scenario_ecl(exposure_rows: pd.DataFrame, assumptions: Assumptions,
                 rates: fx.NightRates | None) -> pd.DataFrame:
    """One row per scenario, then `weighted`: weight, multipliers, ECL per currency (columns
    named by currency) and `total` in the reporting currency (NaN when a rate is missing)."""
    pivot = (exposure_rows.pivot_table(index="scenario", columns="currency", values="ecl",
                                       aggfunc="sum", fill_value=0.0)
             .reindex([s.name for s in assumptions.scenarios], fill_value=0.0))
    currencies = list(pivot.columns)
    weights = pd.Series({s.name: s.weight for s in assumptions.scenarios})
    pivot.loc["weighted"] = pivot.mul(weights, axis=0).sum()
    convertible = rates is not None and not rates.missing(currencies)
    pivot["total"] = (sum(pivot[c] * rates.rate(c) for c in currencies) if convertible
                      else math.nan)
    frame = pivot.reset_index(names="scenario")
    frame.columns.name = None
    terms = {s.name: s for s in assumptions.scenarios}
    frame.insert(1, "weight", [terms[n].weight if n in terms else 1.0 for n in frame["scenario"]])
    frame.insert(2, "pd_multiplier", [terms[n].pd_multiplier if n in terms else math.nan
                                      for n in frame["scenario"]])
    frame.insert(3, "lgd_multiplier", [terms[n].lgd_multiplier if n in terms else math.nan
                                       for n in frame["scenario"]])
    return frame


def stage_transfer(conn, night: date, month_earlier: date, assumptions: Assumptions,
                   with_scores: bool, with_scores_earlier: bool) -> pd.DataFrame:
    """The rows of sql/report/stage_transfer.sql."""
    frame = warehouse.query(conn, "report/stage_transfer", {
        "night": night, "month_earlier": month_earlier,
        "stage_2_rank": BUCKETS.index(assumptions.stage_2_from_bucket),
        "stage_3_rank": BUCKETS.index(assumptions.stage_3_from_bucket),
    }, with_scores=with_scores, with_scores_earlier=with_scores_earlier)
    for column in ("accounts", "balance_then", "balance_now"):
        frame[column] = frame[column].astype(float)
    return frame


def transfer_matrix(transfer: pd.DataFrame, value: str = "accounts",
                    currency: str | None = None) -> pd.DataFrame:
    """State a month earlier (rows: new, 1, 2, 3, written_off, closed) x state tonight (columns:
    1, 2, 3, written_off, closed, gone), summing `value`, one currency or all."""
    rows = transfer if currency is None else transfer[transfer["currency"] == currency]
    return (rows.pivot_table(index="from_state", columns="to_state", values=value,
                             aggfunc="sum", fill_value=0.0)
            .reindex(index=list(TRANSFER_FROM), columns=list(TRANSFER_TO), fill_value=0.0))


def ecl_backtest(transfer: pd.DataFrame, accounts_matrix: np.ndarray | None,
                 balance_matrix: np.ndarray | None, assumptions: Assumptions) -> pd.DataFrame:
    """The month-1 losses the roll chain of a month earlier expected from that night's book
    against what came in the month: write-offs (from stages 1-3) and rolls into stage 3 (from
    stages 1-2), by accounts and by balance a month earlier per currency.

    The transition matrices are the chain's as known a month earlier (rows STATES x TO_STATES);
    bucket probabilities, not scaled by model scores. Returns measure, unit (`accounts` or a
    currency), expected, actual, ratio (actual / expected).
    """
    columns = ["measure", "unit", "expected", "actual", "ratio"]
    if accounts_matrix is None or balance_matrix is None or transfer.empty:
        return pd.DataFrame(columns=columns)
    stage_3 = [STATES.index(b) for b in BUCKETS[BUCKETS.index(assumptions.stage_3_from_bucket):-1]]
    origin = transfer[transfer["from_state"].isin(["1", "2", "3"])]
    rows = []
    for measure, from_states, to_state, targets in (
            ("writeoffs", ("1", "2", "3"), WRITTEN_OFF, [WO]),
            ("into_stage_3", ("1", "2"), "3", stage_3)):
        part = origin[origin["from_state"].isin(from_states)]
        units = [("accounts", part, "accounts", accounts_matrix)] + [
            (currency, part[part["currency"] == currency], "balance_then", balance_matrix)
            for currency in sorted(transfer["currency"].unique())]
        for unit, cells, value, matrix in units:
            probability = cells["from_bucket"].map(
                lambda b, m=matrix, t=targets: float(m[STATES.index(b), t].sum()))
            expected = float((cells[value] * probability).sum())
            actual = float(cells.loc[cells["to_state"] == to_state, value].sum())
            rows.append({"measure": measure, "unit": unit, "expected": expected,
                         "actual": actual, "ratio": actual / expected if expected else math.nan})
    return pd.DataFrame(rows, columns=columns)


@dataclass
class Ifrs9Figures:
    """What section 8 of the report shows; `total` is the per-stage frame in the reporting
    currency (`expected_credit_loss`)."""

    reporting_currency: str
    currencies: list[str]
    missing_rates: list[str]
    rate_lines: list[str]
    exposure: pd.DataFrame
    by_currency: pd.DataFrame
    total: pd.DataFrame
    scenarios: pd.DataFrame
    chain_pd: dict
    eir_accounts: dict  # "landed" / "configured" -> accounts (stages 1-3)
    month_earlier: date | None
    transfer: pd.DataFrame
    backtest: pd.DataFrame
    earlier_staged_by_scores: bool


def ifrs9_figures(conn, night: date, assumptions: Assumptions, chain: list, with_scores: bool,
                  rates: fx.NightRates | None = None) -> Ifrs9Figures:
    """Every IFRS 9 frame of the night's report. `chain`: the roll matrices one month apart,
    oldest first, ending tonight (figures.month_chain); the latest one's balance transition
    gives the PDs, the one a month earlier the backtest's expectations."""
    from pipelines.lib.report.figures import one_month_earlier

    rates = rates or fx.night_rates(conn, night)
    tables = set(warehouse.query(conn, "shared/list_tables")["table_name"])
    columns = set(warehouse.query(conn, "shared/table_columns",
                                  {"table_name": "account_snapshots"})["column_name"])
    latest = chain[-1] if chain else None
    marginal = chain_marginal(latest.transition("balance") if latest else None, assumptions)
    rows = exposure(conn, night, assumptions, marginal, with_scores,
                    with_eir="effective_interest_rate" in columns)
    currencies = sorted(rows["currency"].unique())
    chain_pd = ({"12m": {b: float(p[:assumptions.pd_12m_months].sum()) for b, p in marginal.items()},
                 "lifetime": {b: float(p.sum()) for b, p in marginal.items()}}
                if marginal else {})
    base = rows[(rows["scenario"] == assumptions.scenarios[0].name)
                & rows["stage"].isin([1, 2, 3])]
    month_earlier = latest.from_date if latest else one_month_earlier(night)
    earlier_scores = warehouse.has_rows_for_night(conn, "account_scores", month_earlier, tables)
    transfer = stage_transfer(conn, night, month_earlier, assumptions, with_scores,
                              earlier_scores)
    previous = chain[-2] if len(chain) > 1 and chain[-2].night == month_earlier else None
    backtest = ecl_backtest(transfer, previous.transition("accounts") if previous else None,
                            previous.transition("balance") if previous else None, assumptions)
    return Ifrs9Figures(
        reporting_currency=rates.reporting_currency, currencies=currencies,
        missing_rates=rates.missing(currencies), rate_lines=rates.describe_all(currencies),
        exposure=rows, by_currency=ecl_by_currency(rows, assumptions),
        total=expected_credit_loss(rows, assumptions, rates),
        scenarios=scenario_ecl(rows, assumptions, rates), chain_pd=chain_pd,
        eir_accounts=base.groupby("eir_source")["accounts"].sum().to_dict(),
        month_earlier=month_earlier, transfer=transfer, backtest=backtest,
        earlier_staged_by_scores=earlier_scores)
