"""The monitoring page: one night, a figure behind every PSI, offline, no personal data."""

from __future__ import annotations

import re

import pandas as pd

from models.evaluate import evaluate
from models.monitoring import monitor
from models.registry import build_card
from pipelines.lib.model.dataset import features_for_night
from pipelines.lib.model.monitoring_page import bin_labels, page_path, write_page
from tests.model.conftest import CONFIG, END


def test_bin_labels_follow_the_psi_bins():
    # models.psi.bin_counts: below the first edge, between edges, at or above the last, missing
    assert bin_labels([1.0, 2.5]) == ["< 1", "1 to < 2.5", "≥ 2.5", "missing"]
    assert bin_labels([]) == ["any value", "missing"]


def test_the_page_renders_one_figure_per_feature_and_no_personal_data(
        book, model, windows, tmp_path, monkeypatch):
    monkeypatch.setenv("OVERDUE_HOME", str(tmp_path))
    tonight = features_for_night(book.conn, END)
    _, validation, monitoring = windows
    report = monitor(model, tonight, monitoring)
    card = build_card(model, evaluate(model, validation), CONFIG,
                      code={"commit": "test", "dirty": False})
    path = write_page(report, END, card)

    assert path == tmp_path / "out" / "monitoring" / END.isoformat() / "monitoring.html"
    assert path == page_path(END)
    html = path.read_text(encoding="utf-8")
    features = re.findall(r'<section class="distribution feature" id="feature-([^"]+)"', html)
    assert features == [row["feature"] for row in report["stability"]["features"]]
    assert sorted(features) == sorted(model.feature_names)
    assert html.count('<section class="distribution score"') == 1
    assert html.count("<figure><svg") == len(model.feature_names) + 1
    assert 'id="feature-bureau_score"' not in html  # dropped before training: no PSI at all
    assert "bureau_score" in html  # but listed with why
    # one night: tonight's date and the monitoring window's, no other monitoring night
    assert f"night {END.isoformat()}" in html
    window = report["performance"]["window"]
    assert f"{window['first_night']} to {window['last_night']}" in html
    # per bucket, beside the whole window: rows, rolled forward, AUC, card's AUC, status, KS
    table = html[html.index('<table class="buckets">'):]
    table = table[:table.index("</table>")]
    cells = [[cell.strip().rsplit(">", 1)[-1] for cell in row.split("</td>")[:-1]]
             for row in table.split("<tr>")[2:]]
    assert [row[0] for row in cells] == ["all"] + [
        row["bucket"] for row in report["roll_rate_by_bucket"]]
    assert cells[0][1] == f"{window['rows']:,}"
    assert cells[0][3] == f"{report['performance']['auc']:.4f}"
    for row, bucket in zip(cells[1:], report["roll_rate_by_bucket"]):
        labels = monitoring.loc[monitoring["bucket"] == bucket["bucket"], "label"]
        assert row[1:3] == [f"{len(labels):,}", f"{int(labels.sum()):,}"]
        assert row[6] == ("n/a" if bucket["ks"] != bucket["ks"] else f"{bucket['ks']:.4f}")
    # offline: nothing fetched (the SVGs' namespace URIs are names, not requests)
    assert not re.search(r'<(script|link|img)\b', html)
    assert "src=" not in html
    # no account or customer from the book
    customers = pd.concat(pd.read_csv(p, dtype=str) for p in
                          sorted((book.home / "landing" / "customers").glob("*.csv")))
    for column in ("customer_id", "full_name", "mobile_phone", "email"):
        values = set(customers[column].dropna())
        assert values and not [v for v in values if v in html], column
    assert not [a for a in tonight["account_id"] if a in html]
