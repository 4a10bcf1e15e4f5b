"""IFRS 9 stage mix and expected credit loss, ECL = PD x LGD x EAD (DOMAIN §1).

The staging rule and every assumption (LGD by product, CCF, PD horizons) come from a small YAML
file printed in the report: `reports/risk_report/assumptions.yaml`, or `$OVERDUE_REPORT_ASSUMPTIONS`.
No discounting: losses are not discounted to the reporting date.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from pipelines import settings
from pipelines.lib.report.markov import BUCKETS

DEFAULT_ASSUMPTIONS = settings.TEMPLATES_DIR / "risk_report" / "assumptions.yaml"


@dataclass(frozen=True)
class Assumptions:
    stage_2_from_bucket: str
    stage_3_from_bucket: str
    early_warning_is_significant_increase: bool
    lgd: dict[str, float]
    ccf: float
    pd_12m_months: int
    lifetime_months: int
    source: str = ""

    def lgd_for(self, product: str) -> float:
        return float(self.lgd.get(product, self.lgd["default"]))

    def stage(self, bucket: str, early_warning: bool = False) -> int:
        """The stage of an account in `bucket` (the same rule as sql/report/ifrs9_exposure.sql)."""
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
    assumptions = Assumptions(
        stage_2_from_bucket=str(raw["stage_2_from_bucket"]),
        stage_3_from_bucket=str(raw["stage_3_from_bucket"]),
        early_warning_is_significant_increase=bool(raw["early_warning_is_significant_increase"]),
        lgd={str(k): float(v) for k, v in raw["lgd"].items()},
        ccf=float(raw["ccf"]),
        pd_12m_months=int(raw["pd_12m_months"]),
        lifetime_months=int(raw["lifetime_months"]),
        source=str(path),
    )
    problems = []
    for key in ("stage_2_from_bucket", "stage_3_from_bucket"):
        if getattr(assumptions, key) not in BUCKETS:
            problems.append(f"{key} must be one of {', '.join(BUCKETS)}")
    if BUCKETS.index(assumptions.stage_2_from_bucket) > BUCKETS.index(
            assumptions.stage_3_from_bucket):
        problems.append("stage_2_from_bucket comes after stage_3_from_bucket")
    if "default" not in assumptions.lgd:
        problems.append("lgd needs a `default`")
    if not all(0 <= v <= 1 for v in [*assumptions.lgd.values(), assumptions.ccf]):
        problems.append("lgd and ccf are shares between 0 and 1")
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return assumptions


def expected_credit_loss(exposure: pd.DataFrame, assumptions: Assumptions) -> pd.DataFrame:
    """ECL by stage from `ifrs9_exposure` rows (stage, product, bucket, accounts, balance, ead,
    pd_ead, pd_sum): LGD applies by product to the PD-weighted EAD.

    Returns one row per stage 1..3 (zeros for an empty stage): accounts, balance, ead,
    mean_pd (EAD-weighted), ecl, coverage (ECL / EAD), and a total row (stage `all`).
    """
    frame = exposure.copy()
    frame["ecl"] = [row.pd_ead * assumptions.lgd_for(row.product)
                    for row in frame.itertuples(index=False)]
    by_stage = (frame.groupby("stage")[["accounts", "balance", "ead", "pd_ead", "ecl"]].sum()
                .reindex([1, 2, 3], fill_value=0))
    by_stage.loc["all"] = by_stage.sum()
    by_stage = by_stage.astype(float)
    by_stage["mean_pd"] = by_stage["pd_ead"] / by_stage["ead"].where(by_stage["ead"] > 0)
    by_stage["coverage"] = by_stage["ecl"] / by_stage["ead"].where(by_stage["ead"] > 0)
    by_stage["share_of_balance"] = by_stage["balance"] / by_stage.loc["all", "balance"] \
        if by_stage.loc["all", "balance"] else 0.0
    return by_stage.reset_index(names="stage")
