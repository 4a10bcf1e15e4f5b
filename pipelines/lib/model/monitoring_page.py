"""The monitoring page of one night: what stands behind each PSI, offline, in one HTML file.

Why a page: a PSI is one number; whoever has to act on it needs the two distributions it
compares. For the score and for every model feature the page shows the training window's
(reference) and tonight's share in each PSI bin, side by side as a table and a bar chart (SVG
from matplotlib in the report's style, inlined: no CDN, opens offline), then the performance on
the monitoring window with its row counts. Bins and shares only: no account, no customer.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from datetime import date
from pathlib import Path

import jinja2
import matplotlib

matplotlib.use("svg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import PercentFormatter

from models.psi import NO_DATA
from pipelines import settings
from pipelines.lib.chart_style import STYLE as CHART_STYLE

TEMPLATE_DIR = settings.REPO_ROOT / "reports" / "monitoring"
STYLE = {**CHART_STYLE, "svg.hashsalt": "overdue"}
REFERENCE_COLOUR, TONIGHT_COLOUR = "#1565c0", "#ef6c00"


def page_path(night: date) -> Path:
    """$OVERDUE_HOME/out/monitoring/<night>/monitoring.html."""
    return settings.overdue_home() / "out" / "monitoring" / night.isoformat() / "monitoring.html"


def bin_labels(edges: list) -> list[str]:
    """A label per PSI bin (models.psi.bin_counts): below the first edge ... from the last, then
    missing."""
    if not edges:
        return ["any value", "missing"]
    labels = [f"< {edges[0]:.4g}"]
    labels += [f"{low:.4g} to < {high:.4g}" for low, high in itertools.pairwise(edges)]
    return labels + [f"≥ {edges[-1]:.4g}", "missing"]


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    return re.sub(r'^<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", text, count=1)


def distribution_chart(labels: list[str], reference: list[float], tonight: list[float],
                       key: str) -> str:
    """Side-by-side bars of the reference's and tonight's share per bin, as inline SVG."""
    with plt.rc_context(STYLE | {"svg.hashsalt": f"overdue-{key}"}):
        fig, ax = plt.subplots(figsize=(7.0, 2.2))
        x = np.arange(len(labels))
        ax.bar(x - 0.2, reference or [0.0] * len(labels), width=0.4, label="training window",
               color=REFERENCE_COLOUR)
        ax.bar(x + 0.2, tonight, width=0.4, label="tonight", color=TONIGHT_COLOUR)
        ax.set_xticks(x, labels, rotation=30 if len(labels) > 5 else 0, ha="right"
                      if len(labels) > 5 else "center")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylabel("share of rows")
        ax.grid(axis="x", visible=False)
        ax.legend()
        return _svg(fig)


def _number(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else f"{value:,}"


def _distribution(name: str, row: dict) -> dict:
    bins = row["bins"]
    labels = bin_labels(bins["edges"])
    reference = list(bins["reference"]) or [0.0] * len(labels)
    return {
        "name": name,
        "psi": "no data" if row["status"] == NO_DATA else f"{row['psi']:.4f}",
        "status": row["status"],
        "why": row.get("why", ""),
        "bins": [{"label": label, "reference": f"{ref:.2%}", "tonight": f"{now:.2%}"}
                 for label, ref, now in zip(labels, reference, bins["tonight"])],
        "svg": distribution_chart(labels, reference, list(bins["tonight"]), name),
    }


def render_page(report: dict, night: date, card: dict,
                auc_statuses: dict[str, str | None] | None = None) -> str:
    """The page's HTML for one night's monitoring report (models.monitoring.monitor).

    `auc_statuses`: {"matured" or bucket: ok | alert | None} as model_monitoring has them, so
    the page and the table say the same (None: the status column stays empty)."""
    unjudged = "" if auc_statuses is None else "not judged"
    auc_statuses = auc_statuses or {}
    stability, performance = report["stability"], report["performance"]
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
                                     autoescape=True, undefined=jinja2.StrictUndefined)
    card_auc = {row["bucket"]: row.get("auc")
                for row in card["metrics"]["validation"]["calibration_by_bucket"]}
    buckets = []
    if performance:
        window = performance["window"]
        buckets.append({"bucket": "all", "rows": _number(window["rows"]),
                        "positives": _number(window.get("positives")),
                        "mean_predicted": _number(performance["mean_predicted"]),
                        "observed_rate": _number(performance["observed_rate"]),
                        "auc": _number(performance["auc"]), "ks": _number(performance["ks"]),
                        "card_auc": _number(card["metrics"]["validation"]["auc"]),
                        "auc_status": auc_statuses.get("matured") or ""})
    for row in report["roll_rate_by_bucket"] or []:
        buckets.append({"bucket": row["bucket"], "rows": _number(row["rows"]),
                        "positives": _number(row.get("positives")),
                        "mean_predicted": _number(row["mean_predicted"]),
                        "observed_rate": _number(row["observed_rate"]),
                        "auc": _number(row.get("auc")), "ks": _number(row.get("ks")),
                        "card_auc": _number(card_auc.get(row["bucket"])),
                        "auc_status": auc_statuses.get(row["bucket"]) or unjudged})
    deciles = [{"decile": row["decile"], "rows": _number(row["rows"]),
                "mean_predicted": _number(row["mean_predicted"]),
                "observed_rate": _number(row["observed_rate"])}
               for row in (performance or {}).get("calibration_by_decile", [])]
    windows = card["data_window"]
    return environment.get_template("monitoring.html.j2").render(
        night=night.isoformat(),
        model_version=report["model_version"],
        rows=_number(stability["rows"]),
        windows=[(part, windows.get(part) or {}) for part in
                 ("training", "validation", "monitoring")],
        dropped=card.get("dropped_features") or {},
        score=_distribution("score", stability["score"]),
        features=[_distribution(row["feature"], row) for row in stability["features"]],
        performance=None if performance is None else {
            "window": performance["window"],
            **{key: _number(performance[key]) for key in
               ("auc", "gini", "ks", "brier", "observed_rate", "mean_predicted")}},
        buckets=buckets,
        deciles=deciles,
        alerts=report["alerts"],
    )


def write_page(report: dict, night: date, card: dict,
               auc_statuses: dict[str, str | None] | None = None) -> Path:
    """Render the night's page and write it (replacing a rerun's); returns its path."""
    path = page_path(night)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".html.tmp")
    temporary.write_text(render_page(report, night, card, auc_statuses), encoding="utf-8")
    temporary.replace(path)
    return path
