"""Section 7 shows the champion's AUC and KS inside each bucket beside the overall ones, with the
rows and positives they rest on, from that night's model_monitoring rows."""

from datetime import date

import pandas as pd
import pytest

from pipelines.lib.report.render import bucket_discrimination, build_report, strings
from tests.report.test_report_sections import (  # noqa: F401 (warehouse is a fixture)
    add_model_and_collections,
    section,
    warehouse,
)

NIGHT = date(2026, 4, 29)
# (measure, subject, value, status) as the model stage writes them (pipelines/lib/model/nightly)
MONITORED = [
    ("auc", "matured", 0.93, "ok"), ("ks", "matured", 0.74, None),
    ("rows", "matured", 2300, None), ("positives", "matured", 870, None),
    ("rows", "M1", 600, None), ("positives", "M1", 500, None),
    ("auc_in_bucket", "M1", 0.62, "alert"), ("ks_in_bucket", "M1", 0.21, None),
    ("rows", "M0", 1500, None), ("positives", "M0", 200, None),
    ("auc_in_bucket", "M0", 0.81, "ok"), ("ks_in_bucket", "M0", 0.48, None),
    ("rows", "M6", 12, None), ("positives", "M6", 12, None),
    ("auc_in_bucket", "M6", None, None), ("ks_in_bucket", "M6", None, None),
    ("mean_predicted", "M1", 0.35, "ok"), ("psi", "score", 0.04, "stable"),
]


def test_the_bucket_table_puts_the_whole_window_first_then_m0_to_m6():
    night = pd.DataFrame(MONITORED, columns=["measure", "subject", "value", "status"])
    frame = bucket_discrimination(night)
    assert frame["bucket"].tolist() == ["matured", "M0", "M1", "M6"]
    assert frame.iloc[0].tolist()[:5] == ["matured", 2300, 870, 0.93, 0.74]
    assert frame.iloc[2].tolist() == ["M1", 600, 500, 0.62, 0.21, "alert"]
    assert pd.isna(frame.iloc[3]["auc"]) and frame.iloc[3]["rows"] == 12
    assert frame.iloc[3]["status"] == "not_judged"
    assert bucket_discrimination(night[~night["measure"].str.endswith("_in_bucket")]) is None


@pytest.mark.slow
def test_section_7_shows_auc_and_ks_per_bucket(warehouse, report_book, tmp_path):  # noqa: F811
    add_model_and_collections(warehouse, report_book.night)
    # the model stage's table has a double value (sql/model/create_model_monitoring.sql)
    warehouse.execute("alter table model_monitoring alter value type double")
    warehouse.executemany(
        "insert into model_monitoring values (?, 'v0002', ?, ?, ?, ?)",
        [[report_book.night, *row] for row in MONITORED if row[0] != "psi"
         and (row[0], row[1]) not in {("auc", "matured"), ("ks", "matured"),
                                      ("mean_predicted", "M1")}])
    result = build_report(warehouse, report_book.night, tmp_path / "out", languages=("en",),
                          pdf=False)
    html = section(result.files[0].html.read_text(encoding="utf-8"), 7)
    words = strings()["en"]
    assert words["model_buckets"] in html
    table = html[html.index(words["model_buckets"]):]
    table = table[:table.index("</table>")]
    cells = [row.split("</td>")[:-1] for row in table.split("<tr>")[2:]]
    cells = [[cell.rsplit(">", 1)[-1] for cell in row] for row in cells]
    # the fixture's matured AUC and KS tonight are 0.77 and 0.45 (status ok)
    assert cells == [
        ["matured window (all)", "2,300", "870", "0.7700", "0.4500", "ok"],
        ["M0", "1,500", "200", "0.8100", "0.4800", "ok"],
        ["M1", "600", "500", "0.6200", "0.2100", "alert"],
        ["M6", "12", "12", "–", "–", "not judged"],
    ]
