"""Three sentences for the executive summary: the figures that moved most over the month.

Each candidate is a figure with its value tonight and at the comparison night; they are ranked by
relative change (a rate going from 2 % to 3 % moved 50 %), and the top three are written out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from pipelines.lib.report import formatting as fmt
from pipelines.lib.report import markov


@dataclass(frozen=True)
class Movement:
    key: str
    label: dict  # language -> words
    kind: str  # rate | count | money
    now: float
    before: float
    since: date

    @property
    def relative(self) -> float:
        if self.before == 0:
            return float("inf") if self.now else 0.0
        return abs(self.now - self.before) / abs(self.before)


LABELS = {
    "rate_30plus_accounts": {"zh-CN": "30+逾期率（按户数）", "en": "The 30+ rate by accounts"},
    "rate_60plus_accounts": {"zh-CN": "60+逾期率（按户数）", "en": "The 60+ rate by accounts"},
    "rate_90plus_accounts": {"zh-CN": "90+逾期率（按户数）", "en": "The 90+ rate by accounts"},
    "rate_30plus_balance": {"zh-CN": "30+逾期率（按余额）", "en": "The 30+ rate by balance"},
    "book_accounts": {"zh-CN": "在册贷款户数", "en": "The number of loans on the book"},
    "book_balance": {"zh-CN": "贷款余额", "en": "The loan balance"},
    "npl_ratio": {"zh-CN": "不良贷款率", "en": "The NPL ratio"},
    "roll_m0_m1": {"zh-CN": "M0→M1 迁徙率", "en": "The M0→M1 roll rate"},
    "flow_to_wo": {"zh-CN": "M0 至核销的链式流转率", "en": "The chained flow from M0 to write-off"},
    "forecast_30plus": {"zh-CN": "三个月后的预测30+逾期率", "en": "The 30+ rate forecast for three months ahead"},
}


def _value(value, kind: str, currency: str, language: str) -> str:
    if kind == "rate":
        return fmt.percent(value)
    if kind == "money":
        return fmt.compact_money(value, currency, language)
    return fmt.number(value)


def sentence(move: Movement, language: str, currency: str = "") -> str:
    old = _value(move.before, move.kind, currency, language)
    new = _value(move.now, move.kind, currency, language)
    delta = fmt.change(move.now, move.before, move.kind)
    if language.startswith("zh"):
        delta = delta.replace(" pp", "个百分点")
    up = move.now > move.before
    if move.key == "forecast_30plus":
        if language.startswith("zh"):
            return (f"按最新迁徙矩阵推演，三个月后30+逾期率为{new}（当前{old}，"
                    f"{'上升' if up else '下降'}{delta.lstrip('+-')}）。")
        return (f"Chaining the latest roll-rate matrix, the 30+ rate would be {new} in three "
                f"months, against {old} now ({delta}).")
    if language.startswith("zh"):
        verb = "上升" if up else "下降" if move.now < move.before else "持平"
        return f"{move.label['zh-CN']}较{move.since:%Y-%m-%d}{verb}{delta.lstrip('+-')}，由{old}变为{new}。"
    verb = "rose" if up else "fell" if move.now < move.before else "held"
    return (f"{move.label['en']} {verb} from {old} to {new} ({delta}) "
            f"since {move.since:%d %b %Y}.")


def movements(kpis: dict, compared: dict, chain: list, flows: pd.DataFrame,
              forecast: markov.Forecast | None) -> list[Movement]:
    """Every figure that has a value tonight and at a comparison night, most moved first."""
    since = compared.get("month_earlier") or compared.get("previous_night")
    reference = "month_earlier" if compared.get("month_earlier") else "previous_night"
    found = []
    if since:
        for key, kind in (("rate_30plus_accounts", "rate"), ("rate_60plus_accounts", "rate"),
                          ("rate_90plus_accounts", "rate"), ("rate_30plus_balance", "rate"),
                          ("npl_ratio", "rate"), ("book_accounts", "count"),
                          ("book_balance", "money")):
            now, before = kpis[key]["tonight"], kpis[key][reference]
            if not fmt.missing(now) and not fmt.missing(before):
                found.append(Movement(key, LABELS[key], kind, now, before, since))
    if len(chain) >= 2:
        latest, earlier = chain[-1], chain[-2]
        now = latest.transition("accounts")[0, 1]
        before = earlier.transition("accounts")[0, 1]
        found.append(Movement("roll_m0_m1", LABELS["roll_m0_m1"], "rate", now, before,
                              earlier.night))
    if not flows.empty and flows["snapshot_date"].nunique() == 2:
        m0 = flows[flows["from_bucket"] == "M0"].sort_values("snapshot_date")
        values = m0["chained_flow_to_writeoff"].tolist()
        if len(values) == 2 and not any(pd.isna(v) for v in values):
            found.append(Movement("flow_to_wo", LABELS["flow_to_wo"], "rate", values[1],
                                  values[0], pd.Timestamp(m0["snapshot_date"].iloc[0]).date()))
    if forecast is not None and chain:
        found.append(Movement("forecast_30plus", LABELS["forecast_30plus"], "rate",
                              forecast.rate_30plus(len(forecast.states)),
                              kpis["rate_30plus_accounts"]["tonight"], chain[-1].night))
    return sorted(found, key=lambda m: m.relative, reverse=True)


def summary_sentences(data, language: str, count: int = 3) -> list[str]:
    """The `count` figures that moved most, in words; fewer only for a book without history."""
    moved = movements(data.kpis, data.compared_nights, data.chain, data.flow_rates, data.forecast)
    return [sentence(m, language, data.currency) for m in moved[:count]]
