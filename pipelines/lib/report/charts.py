"""The report's charts: matplotlib to static SVG, inlined in the HTML and drawn the same in the PDF.

Text stays text in the SVG (fonts from the system: Noto Sans CJK), so the files stay small and the
charts read in both languages. A chart function returns None when its figures are not there.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import matplotlib

matplotlib.use("svg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    MaxNLocator,
    NullFormatter,
    PercentFormatter,
)

from pipelines.lib.chart_style import STYLE
from pipelines.lib.report import formatting as fmt
from pipelines.lib.report import markov

WIDTH = 7.0  # inches: the A4 text width at 15 mm margins
BUCKET_COLOURS = {"M0": "#2e7d32", "M1": "#9ccc65", "M2": "#fdd835", "M3": "#fb8c00",
                  "M4": "#f4511e", "M5": "#d81b60", "M6": "#8e24aa", "WO": "#424242",
                  "closed": "#90a4ae"}
# the report process draws only these charts: text objects take their font when created
matplotlib.rcParams.update(STYLE)
LINE_COLOURS = ["#1565c0", "#ef6c00", "#c62828", "#2e7d32", "#6a1b9a", "#00838f", "#5d4037",
                "#ad1457", "#9e9d24", "#283593", "#4e342e", "#00695c", "#37474f"]


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    units: str
    caption: str
    svg: str


def _svg(fig) -> str:
    buffer = io.StringIO()
    # no creation date and fixed element ids: the same night renders the same bytes
    with plt.rc_context({"svg.hashsalt": "overdue"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    # drop the fixed size: the page's CSS sizes the chart, the viewBox keeps its proportions
    return re.sub(r'^<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1', text, count=1)


def _figure(height: float = 2.8, columns: int = 1):
    return plt.subplots(1, columns, figsize=(WIDTH, height), squeeze=False)


def _chart(key: str, strings: dict, fig, note: str = "") -> Chart:
    text = strings["charts"][key]
    caption = f"{text['caption']} {note}".strip()
    return Chart(key, text["title"], text["units"], caption, _scoped(_svg(fig), key))


def _word(value, strings: dict) -> str:
    """A warehouse value (state, status, channel, tier...) in the report's language."""
    return fmt.label(value, strings)


def _legend_below(ax, ncol: int = 4, **kwargs):
    """The legend under the plot, never over the data or an axis."""
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=ncol, **kwargs)


def _log_axis(ax, values):
    """A log axis over positive values (bars of 0 are left out, not drawn to a 0 tick): ticks at
    1, 10, 100 ... within the data's range."""
    positive = [float(v) for v in values if v and v > 0]
    if not positive:
        return
    ax.set_yscale("log")
    low, high = min(positive), max(positive)
    bottom = 10 ** np.floor(np.log10(low)) / 2
    ax.set_ylim(bottom, high * 3)
    ticks = [10.0 ** k for k in range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _night_axis(ax, nights):
    """A date axis by night (one tick label per day at most, never hours); a short span gets a
    day of margin either side."""
    nights = pd.to_datetime(pd.Series(nights)).dropna()
    if nights.empty:
        return
    span = (nights.max() - nights.min()).days
    if span < 7:
        ax.set_xlim(nights.min() - pd.Timedelta(days=1), nights.max() + pd.Timedelta(days=1))
        ax.xaxis.set_major_locator(mdates.DayLocator())
    else:
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=8))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))


def _scoped(svg: str, key: str) -> str:
    """Prefix the SVG's element ids with the chart's key: many charts share one HTML page."""
    svg = re.sub(r'\bid="', f'id="{key}-', svg)
    svg = svg.replace("url(#", f"url(#{key}-")
    svg = re.sub(r'xlink:href="#', f'xlink:href="#{key}-', svg)
    # WeasyPrint reads text-anchor as an attribute, not inside style
    return re.sub(r'style="([^"]*?);? ?text-anchor: ?(\w+)"', r'style="\1" text-anchor="\2"', svg)


def _money_axis(ax, currency: str, language: str):
    ax.yaxis.set_major_formatter(FuncFormatter(
        lambda v, _: fmt.compact_money(v, currency, language)))


def bucket_mix(data, strings: dict, language: str) -> Chart | None:
    if data.bucket_mix.empty:
        return None
    mix = data.bucket_mix.groupby("bucket")[["accounts", "balance"]].sum(min_count=1).reindex(
        markov.BUCKETS, fill_value=0)
    priced = not data.bucket_mix["balance"].isna().any()
    fig, axes = _figure(columns=2 if priced else 1)
    colours = [BUCKET_COLOURS[b] for b in mix.index]
    labels = strings["axis"]
    panels = [(axes[0, 0], "accounts", labels["accounts"])]
    if priced:
        panels.append((axes[0, 1], "balance", labels["balance"]))
    for ax, column, label in panels:
        bars = ax.bar(mix.index, mix[column], color=colours)
        _log_axis(ax, mix[column])
        ax.set_title(label)
        ax.set_xlabel(labels["bucket"])
        ax.grid(axis="x", visible=False)
        for bar, value in zip(bars, mix[column]):
            text = (fmt.number(value) if column == "accounts"
                    else fmt.compact_money(value, data.currency, language))
            ax.annotate(text, (bar.get_x() + bar.get_width() / 2, max(bar.get_height(),
                                                                       ax.get_ylim()[0])),
                        ha="center", va="bottom", fontsize=6)
    axes[0, 0].yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.number(v)))
    if not priced:
        return _chart("bucket_mix", strings, fig, strings["balance_unpriced_note"])
    _money_axis(axes[0, 1], data.currency, language)
    return _chart("bucket_mix", strings, fig)


GRADES = ("normal", "special_mention", "substandard", "doubtful", "loss")
GRADE_COLOURS = ("#2e7d32", "#fdd835", "#fb8c00", "#e53935", "#424242")


def grading_mix(data, strings: dict, language: str) -> Chart | None:
    book = data.history[(data.history["product"] == "all")
                        & (pd.to_datetime(data.history["snapshot_date"]).dt.date == data.night)]
    if book.empty:
        return None
    row = book.iloc[0]
    fig, axes = _figure(height=1.6)
    ax = axes[0, 0]
    names = strings["grades"]
    for y, prefix in ((1, "accounts"), (0, "balance")):
        values = np.array([float(row[f"{prefix}_{g}"]) for g in GRADES])
        if np.isnan(values).any():
            continue  # no exchange rate tonight: no balance mix across currencies
        total = values.sum() or 1.0
        left = 0.0
        for grade, value, colour in zip(GRADES, values / total, GRADE_COLOURS):
            ax.barh(y, value, left=left, color=colour, label=names[grade] if y else None)
            if value >= 0.04:
                ax.text(left + value / 2, y, fmt.percent(value), ha="center", va="center",
                        fontsize=6, color="white" if grade in ("loss", "doubtful") else "black")
            left += value
    ax.set_yticks([1, 0], [strings["axis"]["by_accounts"], strings["axis"]["by_balance"]])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, 1)
    ax.grid(False)
    ax.legend(ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    return _chart("grading_mix", strings, fig)


def _dates(frame: pd.DataFrame):
    return pd.to_datetime(frame["snapshot_date"])


def delinquency_trend(data, strings: dict, language: str) -> Chart | None:
    book = data.history[data.history["product"] == "all"]
    if len(book) < 2:
        return None
    fig, axes = _figure()
    ax = axes[0, 0]
    for column, label, colour in (("rate_30plus_accounts", "30+", LINE_COLOURS[0]),
                                  ("rate_60plus_accounts", "60+", LINE_COLOURS[1]),
                                  ("rate_90plus_accounts", "90+", LINE_COLOURS[2])):
        ax.plot(_dates(book), book[column], label=label, color=colour, linewidth=1.2)
    ax.plot(_dates(book), book["rate_30plus_balance"], label=strings["axis"]["30plus_balance"],
            color=LINE_COLOURS[0], linestyle="--", linewidth=0.8)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_ylabel(strings["axis"]["share"])
    _night_axis(ax, book["snapshot_date"])
    fig.autofmt_xdate()
    _legend_below(ax, ncol=4)
    return _chart("delinquency_trend", strings, fig)


def trend_by_product(data, strings: dict, language: str) -> Chart | None:
    products = data.history[data.history["product"] != "all"]
    if products.empty or len(products["snapshot_date"].unique()) < 2:
        return None
    fig, axes = _figure()
    ax = axes[0, 0]
    for colour, (product, rows) in zip(LINE_COLOURS, products.groupby("product")):
        name = _word(product, strings)
        ax.plot(_dates(rows), rows["rate_30plus_accounts"], label=f"{name} 30+",
                color=colour, linewidth=1.2)
        ax.plot(_dates(rows), rows["rate_90plus_accounts"], label=f"{name} 90+",
                color=colour, linewidth=0.8, linestyle=":")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_ylabel(strings["axis"]["share"])
    _night_axis(ax, products["snapshot_date"])
    fig.autofmt_xdate()
    _legend_below(ax, ncol=4)
    return _chart("trend_by_product", strings, fig)


def _heatmap(ax, values: np.ndarray, rows, columns, *, cmap, vmin, vmax, text, strings):
    ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(columns)), [_word(c, strings) for c in columns])
    ax.set_yticks(range(len(rows)), [_word(r, strings) for r in rows])
    ax.xaxis.tick_top()
    ax.grid(False)
    for i in range(len(rows)):
        for j in range(len(columns)):
            label = text(values[i, j])
            if label:
                dark = abs(values[i, j]) > (vmax * 0.6)
                ax.text(j, i, label, ha="center", va="center", fontsize=6,
                        color="white" if dark else "black")


def _shares(matrix: markov.RollMatrix) -> tuple[np.ndarray, list[str]]:
    counts = np.vstack([matrix.accounts, np.append(matrix.new_accounts, 0.0)])
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.full_like(counts, np.nan), where=totals > 0)
    return shares, [*markov.STATES, "new"]


def roll_heatmap(data, strings: dict, language: str) -> Chart | None:
    if not data.chain:
        return None
    shares, rows = _shares(data.chain[-1])
    keep = [i for i in range(len(rows)) if not np.isnan(shares[i]).all()]
    fig, axes = _figure(height=3.2)
    ax = axes[0, 0]
    _heatmap(ax, np.nan_to_num(shares[keep]), [rows[i] for i in keep], markov.TO_STATES,
             cmap="Reds", vmin=0, vmax=1,
             text=lambda v: fmt.percent(v, 1) if v >= 0.0005 else "", strings=strings)
    ax.set_ylabel(strings["axis"]["from_state"])
    ax.set_xlabel(strings["axis"]["to_state"])
    return _chart("roll_heatmap", strings, fig)


def roll_change(data, strings: dict, language: str) -> Chart | None:
    if len(data.chain) < 2:
        return None
    now, rows = _shares(data.chain[-1])
    before, _ = _shares(data.chain[-2])
    delta = now - before
    keep = [i for i in range(len(rows)) if not np.isnan(delta[i]).all()]
    if not keep:
        return None
    delta = np.nan_to_num(delta[keep])
    limit = max(float(np.abs(delta).max()), 0.01)
    fig, axes = _figure(height=3.2)
    ax = axes[0, 0]
    _heatmap(ax, delta, [rows[i] for i in keep], markov.TO_STATES, cmap="RdBu_r",
             vmin=-limit, vmax=limit,
             text=lambda v: f"{v * 100:+.1f}" if abs(v) >= 0.001 else "", strings=strings)
    ax.set_ylabel(strings["axis"]["from_state"])
    ax.set_xlabel(strings["axis"]["to_state"])
    return _chart("roll_change", strings, fig)


def flow_rates(data, strings: dict, language: str) -> Chart | None:
    flows = data.flow_rates
    if flows.empty:
        return None
    fig, axes = _figure()
    ax = axes[0, 0]
    nights = sorted(flows["snapshot_date"].unique())
    width = 0.8 / len(nights)
    for k, night in enumerate(nights):
        rows = flows[flows["snapshot_date"] == night]
        x = np.arange(len(rows)) + k * width
        label = pd.Timestamp(night).strftime("%Y-%m-%d")
        bars = ax.bar(x, rows["flow_rate"].fillna(0), width=width, label=label,
                      color=LINE_COLOURS[k])
        for bar, value in zip(bars, rows["flow_rate"]):
            ax.annotate(fmt.percent(value), (bar.get_x() + bar.get_width() / 2,
                                             bar.get_height()), ha="center", va="bottom",
                        fontsize=5.5)
    rows = flows[flows["snapshot_date"] == nights[-1]]
    ax.set_xticks(np.arange(len(rows)) + width * (len(nights) - 1) / 2,
                  [f"{a}→{b}" for a, b in zip(rows["from_bucket"], rows["to_bucket"])])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel(strings["axis"]["flow_rate"])
    ax.grid(axis="x", visible=False)
    _legend_below(ax, ncol=len(nights))
    return _chart("flow_rates", strings, fig)


def forecast_mix(data, strings: dict, language: str) -> Chart | None:
    if data.forecast is None or not data.chain:
        return None
    vectors = [data.chain[-1].state_accounts(), *data.forecast.states]
    labels = [strings["axis"]["tonight"]] + [strings["axis"]["month_ahead"].format(n=k)
                                            for k in range(1, len(vectors))]
    fig, axes = _figure(columns=2)
    ax = axes[0, 0]
    bottom = np.zeros(len(vectors))
    shares = np.array([v / v.sum() for v in vectors])
    for j, state in enumerate(markov.STATES):
        if state in ("M0", "closed"):
            continue
        ax.bar(labels, shares[:, j], bottom=bottom, color=BUCKET_COLOURS[state], label=state)
        bottom += shares[:, j]
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_title(strings["axis"]["mix_outside_m0"])
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles, names, fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.1),
              ncol=len(names))
    ax.grid(axis="x", visible=False)
    if data.forecast_balance is None:
        # no exchange rate tonight: no converted balance chain, so no loss forecast in money
        fig.delaxes(axes[0, 1])
        return _chart("forecast_mix", strings, fig)
    ax2 = axes[0, 1]
    losses = data.forecast_balance.writeoffs
    bars = ax2.bar(labels[1:], losses, color=BUCKET_COLOURS["WO"])
    for bar, value in zip(bars, losses):
        ax2.annotate(fmt.compact_money(value, data.currency, language),
                     (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                     va="bottom", fontsize=6)
    ax2.set_title(strings["axis"]["forecast_losses"])
    _money_axis(ax2, data.currency, language)
    ax2.grid(axis="x", visible=False)
    return _chart("forecast_mix", strings, fig)


def backtest(data, strings: dict, language: str) -> Chart | None:
    frame = data.backtest
    if frame.empty:
        return None
    fig, axes = _figure()
    ax = axes[0, 0]
    actual = frame.drop_duplicates("target").sort_values("target")
    ax.plot(pd.to_datetime(actual["target"]), actual["actual_30plus"], color="black",
            marker="o", linewidth=1.5, label=strings["axis"]["actual"])
    for k, rows in frame.groupby("months_ahead"):
        ax.plot(pd.to_datetime(rows["target"]), rows["forecast_30plus"], marker="x",
                linestyle="--", linewidth=1, color=LINE_COLOURS[int(k)],
                label=strings["axis"]["forecast_ahead"].format(n=int(k)))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_ylabel(strings["axis"]["share"])
    _night_axis(ax, frame["target"])
    fig.autofmt_xdate()
    _legend_below(ax, ncol=4)
    return _chart("backtest", strings, fig)


def vintage(data, strings: dict, language: str) -> Chart | None:
    """Bad rate by count (left) and by balance (right); censored months are gaps, not zeros.

    Vintages opened before the book's first night are dashed and start at their first observed
    month on book (marked in the legend).
    """
    frame = data.vintage
    if frame.empty:
        return None
    fig, axes = _figure(height=3.4, columns=2)
    labels = strings["axis"]
    months = sorted(frame["open_month"].unique())
    for k, month in enumerate(months):
        rows = frame[frame["open_month"] == month].sort_values("months_on_book")
        first = int(rows["first_observed_mob"].iloc[0])
        name = pd.Timestamp(month).strftime("%Y-%m")
        if first > 0:
            name += " " + labels["vintage_from_mob"].format(n=first)
        style = {"color": LINE_COLOURS[k % len(LINE_COLOURS)], "linewidth": 1, "marker": ".",
                 "markersize": 3, "linestyle": "--" if first > 0 else "-"}
        for ax, column in ((axes[0, 0], "share_ever_30plus"),
                           (axes[0, 1], "share_ever_30plus_balance")):
            values = pd.to_numeric(rows[column], errors="coerce").astype(float)
            ax.plot(rows["months_on_book"], values.to_numpy(), label=name, **style)
    for ax, title in ((axes[0, 0], labels["by_accounts"]), (axes[0, 1], labels["by_balance"])):
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(labels["months_on_book"])
        ax.set_title(title)
    axes[0, 0].set_ylabel(labels["ever_30plus"])
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=5, fontsize=6,
               bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.16, 1, 1))
    return _chart("vintage", strings, fig)


def _monitoring(data) -> pd.DataFrame | None:
    section = data.optional.get("model")
    return None if section is None else section["model_monitoring_history"]


def monitoring_night(frame: pd.DataFrame, night) -> object | None:
    """The latest monitoring night on or before the report night: monitoring charts and tables
    show that one night, never several mixed."""
    nights = pd.to_datetime(frame["snapshot_date"]).dt.date
    nights = nights[nights <= night]
    return None if nights.empty else nights.max()


def model_performance(data, strings: dict, language: str) -> Chart | None:
    """AUC and KS by monitoring night: one point per night, joined, on a day axis."""
    frame = _monitoring(data)
    if frame is None:
        return None
    rows = frame[frame["measure"].isin(["auc", "ks"])
                 & (pd.to_datetime(frame["snapshot_date"]).dt.date <= data.night)]
    if rows.empty:
        return None
    fig, axes = _figure()
    ax = axes[0, 0]
    for colour, (measure, values) in zip(LINE_COLOURS, rows.groupby("measure")):
        by_night = values.groupby(_dates(values))["value"].mean().sort_index()
        ax.plot(by_night.index, by_night.to_numpy(), marker="o", markersize=3, color=colour,
                label=_word(measure, strings), linewidth=1.2)
    ax.set_ylim(0, 1)
    ax.set_ylabel(strings["axis"]["metric"])
    _night_axis(ax, rows["snapshot_date"])
    fig.autofmt_xdate()
    _legend_below(ax, ncol=2)
    return _chart("model_performance", strings, fig)


def calibration(data, strings: dict, language: str) -> Chart | None:
    """Predicted against observed per bucket on one monitoring night (named in the caption)."""
    frame = _monitoring(data)
    if frame is None:
        return None
    when = monitoring_night(frame, data.night)
    if when is None:
        return None
    night = frame[pd.to_datetime(frame["snapshot_date"]).dt.date == when]
    predicted = night[night["measure"] == "mean_predicted"].groupby("subject")["value"].mean()
    observed = night[night["measure"] == "observed_rate"].groupby("subject")["value"].mean()
    present = set(predicted.index) | set(observed.index)
    subjects = [s for s in markov.BUCKETS if s in present]
    subjects += sorted(present - set(subjects))
    if not subjects:
        return None
    fig, axes = _figure()
    ax = axes[0, 0]
    x = np.arange(len(subjects))
    ax.bar(x - 0.2, predicted.reindex(subjects).fillna(0), width=0.4,
           label=strings["axis"]["predicted"], color=LINE_COLOURS[0])
    ax.bar(x + 0.2, observed.reindex(subjects).fillna(0), width=0.4,
           label=strings["axis"]["observed"], color=LINE_COLOURS[1])
    # the whole window's label is long: wrapped so it does not run into the last bucket's
    ax.set_xticks(x, [_word(s, strings).replace(" ", "\n", 1) if len(_word(s, strings)) > 8
                      else _word(s, strings) for s in subjects], fontsize=7)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel(strings["axis"]["roll_forward"])
    ax.grid(axis="x", visible=False)
    _legend_below(ax, ncol=2)
    return _chart("calibration", strings, fig,
                  strings["monitoring_night_note"].format(night=when))


def stage_mix(data, strings: dict, language: str) -> Chart | None:
    """EAD and ECL of stages 1-3 in the reporting currency; when a rate is missing (no book
    total), the reporting currency's own accounts (named in the caption)."""
    ecl, currency, note = data.ecl, data.currency, ""
    figures = getattr(data, "ifrs9", None)
    if ecl["ead"].isna().all() and figures is not None:
        currency = figures.reporting_currency
        ecl = figures.by_currency[figures.by_currency["currency"] == currency]
        note = strings["stage_mix_currency_note"].format(currency=currency)
    ecl = ecl[ecl["stage"].astype(str).isin(["1", "2", "3"])]
    if ecl.empty or ecl["ead"].isna().all() or ecl["accounts"].sum() == 0:
        return None
    fig, axes = _figure(columns=2)
    labels = [strings["stages"][str(s)] for s in ecl["stage"]]
    colours = ["#2e7d32", "#fb8c00", "#c62828"]
    for ax, column, title in ((axes[0, 0], "ead", strings["axis"]["ead"]),
                              (axes[0, 1], "ecl", strings["axis"]["ecl"])):
        bars = ax.bar(labels, ecl[column], color=colours)
        for bar, value in zip(bars, ecl[column]):
            ax.annotate(fmt.compact_money(value, currency, language),
                        (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                        va="bottom", fontsize=6)
        ax.set_title(title)
        _money_axis(ax, currency, language)
        ax.grid(axis="x", visible=False)
    return _chart("stage_mix", strings, fig, note)


def tiers(data, strings: dict, language: str) -> Chart | None:
    section = data.optional.get("tiers")
    if section is None or section["collection_tiers"].empty:
        return None
    frame = section["collection_tiers"].groupby("tier")[["accounts", "suppressed"]].sum()
    fig, axes = _figure()
    ax = axes[0, 0]
    names = [_word(t, strings) for t in frame.index]
    ax.bar(names, frame["accounts"] - frame["suppressed"], color=LINE_COLOURS[0],
           label=strings["axis"]["treated"])
    ax.bar(names, frame["suppressed"], bottom=frame["accounts"] - frame["suppressed"],
           color="#b0bec5", label=strings["axis"]["suppressed"])
    ax.set_ylabel(strings["axis"]["accounts"])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.number(v)))
    ax.grid(axis="x", visible=False)
    _legend_below(ax, ncol=2)
    return _chart("tiers", strings, fig)


def contacts(data, strings: dict, language: str) -> Chart | None:
    section = data.optional.get("contacts")
    if section is None or section["contact_history"].empty:
        return None
    frame = section["contact_history"].pivot_table(index="channel", columns="status",
                                                   values="contacts", aggfunc="sum",
                                                   fill_value=0)
    fig, axes = _figure()
    ax = axes[0, 0]
    bottom = np.zeros(len(frame))
    channels = [_word(c, strings) for c in frame.index]
    for colour, status in zip(LINE_COLOURS, frame.columns):
        ax.bar(channels, frame[status], bottom=bottom, label=_word(status, strings),
               color=colour)
        bottom += frame[status].to_numpy()
    ax.set_ylabel(strings["axis"]["contacts"])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.number(v)))
    ax.grid(axis="x", visible=False)
    _legend_below(ax, ncol=6)
    return _chart("contacts", strings, fig)


def cure_rates(data, strings: dict, language: str) -> Chart | None:
    """Cured within 7 days of the 7-day cohort and within 30 days of the 30-day cohort (each
    over its own cohort's treatments)."""
    section = data.optional.get("cures")
    if section is None or section["cure_rates"].empty:
        return None
    frame = section["cure_rates"]
    labels = [f"{_word(t, strings)}\n{_word(m, strings)}"
              for t, m in zip(frame["tier"], frame["treatment"])]
    cohort_7d = frame["contacts"].where(frame["contacts"] > 0)
    cohort_30d = (frame["contacts_30d"] if "contacts_30d" in frame else frame["contacts"])
    cohort_30d = cohort_30d.where(cohort_30d > 0)
    fig, axes = _figure(height=3.0)
    ax = axes[0, 0]
    x = np.arange(len(frame))
    ax.bar(x - 0.2, (frame["cured_7d"] / cohort_7d).fillna(0), width=0.4,
           label=strings["axis"]["cured_7d"], color=LINE_COLOURS[0])
    ax.bar(x + 0.2, (frame["cured_30d"] / cohort_30d).fillna(0), width=0.4,
           label=strings["axis"]["cured_30d"], color=LINE_COLOURS[3])
    ax.set_xticks(x, labels, fontsize=6)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel(strings["axis"]["cure_rate"])
    ax.grid(axis="x", visible=False)
    _legend_below(ax, ncol=2)
    return _chart("cure_rates", strings, fig)


# section number -> the charts it shows, in order
SECTIONS = {
    2: (bucket_mix, grading_mix),
    3: (delinquency_trend, trend_by_product),
    4: (roll_heatmap, roll_change, flow_rates),
    5: (forecast_mix, backtest),
    6: (vintage,),
    7: (model_performance, calibration),
    8: (stage_mix,),
    9: (tiers, contacts, cure_rates),
}


def all_charts(data, strings: dict, language: str) -> dict[int, list[Chart]]:
    return {section: [chart for chart in (draw(data, strings, language) for draw in draws)
                      if chart is not None]
            for section, draws in SECTIONS.items()}
