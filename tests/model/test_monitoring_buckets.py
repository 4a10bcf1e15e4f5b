"""model_monitoring per bucket, as Dagster runs it: rows, positives, negatives, AUC and KS inside
each bucket on the matured window, the AUC verdict by the gate's rule, and the same figures in
the asset's metadata and on the night's page (counts and rates only)."""

from __future__ import annotations

import pandas as pd

from models.config import ModelConfig
from pipelines.cli import run_nights
from tests.model.conftest import END
from tests.model.test_model_assets import (  # noqa: F401 (model_home is a fixture)
    MODEL_ENV,
    check_results,
    latest_metadata,
    model_home,
    query,
)


def test_the_monitored_night_has_auc_and_ks_per_bucket(model_home, book):  # noqa: F811
    run_nights(END, END, ["model"])
    rows = pd.DataFrame(query(model_home, """
        select measure, subject, value, status from model_monitoring
        where snapshot_date = ? and measure <> 'psi'""", [END]),
        columns=["measure", "subject", "value", "status"])
    value = rows.pivot(index="subject", columns="measure", values="value")
    status = rows.pivot(index="subject", columns="measure", values="status")
    buckets = [b for b in value.index if b != "matured"]
    assert buckets and set(buckets) <= {"M0", "M1", "M2", "M3", "M4", "M5", "M6"}
    per_bucket = value.loc[buckets]
    # every row of the window is in one bucket, with its class
    assert per_bucket["rows"].sum() == value.loc["matured", "rows"]
    assert per_bucket["positives"].sum() == value.loc["matured", "positives"]
    assert (per_bucket["positives"] + per_bucket["negatives"] == per_bucket["rows"]).all()
    assert per_bucket["ks_in_bucket"].dropna().between(0, 1).all()
    assert per_bucket["auc_in_bucket"].notna().any() and per_bucket["ks_in_bucket"].notna().any()
    # the verdict follows the rule the gate uses, read from the table's own counts
    config = ModelConfig.from_env(MODEL_ENV)
    for bucket in buckets:
        counts = per_bucket.loc[bucket]
        assert counts["accounts"] <= counts["rows"]
        assert max(counts["positive_accounts"], counts["negative_accounts"]) <= counts["accounts"]
        judgeable = (counts["accounts"] >= config.bucket_auc_min_rows
                     and min(counts["positive_accounts"], counts["negative_accounts"])
                     >= config.bucket_auc_min_class_rows
                     and pd.notna(counts["auc_in_bucket"]))
        verdict = status.loc[bucket, "auc_in_bucket"]
        assert (verdict in ("ok", "alert")) if judgeable else pd.isna(verdict), bucket

    metadata = latest_metadata("model_monitoring")
    table = metadata["roll_rate_by_bucket"].splitlines()
    assert table[0].startswith("| bucket | rows | positives | AUC | AUC status | KS |")
    assert table[2].startswith(f"| all | {value.loc['matured', 'rows']:,.0f} | ")
    assert [line.split(" | ")[0].lstrip("| ") for line in table[3:]] == buckets
    for line, bucket in zip(table[3:], buckets):
        ks = per_bucket.loc[bucket, "ks_in_bucket"]
        assert line.split(" | ")[5] == ("n/a" if pd.isna(ks) else f"{ks:.4f}")
    accounts = {a for (a,) in query(model_home, "select account_id from account_scores")}
    assert not [a for a in accounts if a in metadata["roll_rate_by_bucket"]]
    assert "auc_on_matured_labels" in check_results()

    html = (model_home / "out" / "monitoring" / END.isoformat() / "monitoring.html").read_text(
        encoding="utf-8")
    assert "<th>AUC status</th>" in html and '<th class="number">KS</th>' in html
