"""Sections 7 (model) and 9 (collections) on a copy of the session's warehouse: real content when
their tables hold the night, "not available" when a table is missing, empty or of another shape;
and the month-end edition."""

import shutil

import duckdb
import pytest
from markupsafe import escape

from pipelines.lib.report.render import build_report, strings

pytestmark = pytest.mark.slow

NOT_AVAILABLE = strings()["en"]["not_available"]


@pytest.fixture
def warehouse(report_book, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(report_book.home / "warehouse.duckdb", path)
    with duckdb.connect(str(path)) as conn:
        yield conn


def add_model_and_collections(conn, night):
    """The later stages' tables (common.md shapes), filled set-wise from tonight's book."""
    conn.execute("""
        create table account_scores as
        select snapshot_date, account_id,
            case when days_past_due > 180 or status = 'charged_off' then null
                else least(0.95, 0.02 + days_past_due / 100.0) end as probability,
            case when days_past_due = 0 then 'A' when days_past_due <= 30 then 'C' else 'E' end
                as risk_grade,
            days_past_due = 0 and hash(account_id) % 10 = 0 as early_warning,
            'v0002' as model_version
        from account_snapshots where snapshot_date = ?""", [night])
    conn.execute("""
        create table model_monitoring as
        select * from (values
            (?::date - 60, 'v0002', 'auc', 'matured', 0.81, 'ok'),
            (?::date - 30, 'v0002', 'auc', 'matured', 0.79, 'ok'),
            (?::date, 'v0002', 'auc', 'matured', 0.77, 'ok'),
            (?::date, 'v0002', 'ks', 'matured', 0.45, 'ok'),
            (?::date, 'v0002', 'psi', 'score', 0.04, 'stable'),
            (?::date, 'v0002', 'psi', 'utilisation_feature_x', 0.31, 'act'),
            (?::date, 'v0002', 'mean_predicted', 'M0', 0.03, 'ok'),
            (?::date, 'v0002', 'observed_rate', 'M0', 0.028, 'ok'),
            (?::date, 'v0002', 'mean_predicted', 'M1', 0.35, 'ok'),
            (?::date, 'v0002', 'observed_rate', 'M1', 0.41, 'watch')
        ) as t (snapshot_date, model_version, measure, subject, value, status)""", [night] * 10)
    conn.execute("""
        create table collection_tiers as
        select snapshot_date, account_id,
            case when days_past_due <= 30 then 'T1 soft' else 'T3 formal' end as tier,
            case when days_past_due <= 30 then 'sms' else 'letter' end as treatment,
            case when hash(account_id) % 4 = 0 then 'open_dispute' end as suppression_reason,
            's2026.1' as strategy_version
        from account_snapshots where snapshot_date = ? and days_past_due > 0""", [night])
    conn.execute("""
        create table contact_history as select * from (values
            (?::date, 'sms', 'sent', null), (?::date, 'sms', 'held', 'quiet_hours_22_08'),
            (?::date, 'letter', 'planned', null), (?::date, 'email', 'failed', null)
        ) as t (snapshot_date, channel, status, held_rule)""", [night] * 4)
    conn.execute("""
        create table cure_rates as select * from (values
            (?::date, 'T1 soft', 'sms', 120, 60, 48, 100, 90, 75),
            (?::date, 'T3 formal', 'letter', 30, 6, 3, 25, 12, 7)
        ) as t (snapshot_date, tier, treatment, contacts, paid_7d, cured_7d, contacts_30d,
                paid_30d, cured_30d)
        """, [night] * 2)
    conn.execute("""
        create table credit_line_actions as select * from (values
            (?::date, 'A1', 'CNY', 'freeze', 'delinquent_freeze_bucket', 10000.0, 2000.0, 2000.0),
            (?::date, 'A2', 'CNY', 'freeze', 'over_limit', 8000.0, 0.0, 0.0),
            (?::date, 'A3', 'USD', 'reduce', 'current_high_risk_high_utilisation', 3000.0, 999.0,
             790.0)
        ) as t (snapshot_date, account_id, currency, action, reason, credit_limit, undrawn_limit,
                exposure_removed)""", [night] * 3)


def section(html, number):
    start = html.index(f'id="section-{number}"')
    end = html.find('<section id="section-', start + 10)
    return html[start:end if end > 0 else None]


def test_model_and_collections_sections_show_their_tables(warehouse, report_book, tmp_path):
    add_model_and_collections(warehouse, report_book.night)
    result = build_report(warehouse, report_book.night, tmp_path / "out", languages=("en",),
                          pdf=False)
    (files,) = result.files
    html = files.html.read_text(encoding="utf-8")
    assert {"model_performance", "calibration", "tiers", "contacts", "cure_rates"} <= set(
        files.charts)
    model, collections = section(html, 7), section(html, 9)
    assert NOT_AVAILABLE not in model and NOT_AVAILABLE not in collections
    assert "utilisation_feature_x" in model and "0.3100" in model  # PSI table
    # warehouse keys in words (strings.yaml values)
    assert "open dispute" in collections and "quiet hours 22:00-08:00" in collections
    assert "freeze" in collections and "T3 formal" in collections
    # with scores, PD comes from the model and early-warning accounts move to stage 2
    assert result.data.pd_source == "model"
    assert str(escape(strings()["en"]["pd_source_model"])) in section(html, 8)


def test_empty_or_foreign_tables_leave_the_section_not_available(warehouse, report_book,
                                                                  tmp_path):
    add_model_and_collections(warehouse, report_book.night)
    warehouse.execute("delete from model_monitoring")
    warehouse.execute("delete from account_scores")
    warehouse.execute("drop table cure_rates")
    warehouse.execute("create table cure_rates (snapshot_date date, other_shape varchar)")
    warehouse.execute("insert into cure_rates values (?, 'x')", [report_book.night])
    result = build_report(warehouse, report_book.night, tmp_path / "out", languages=("en",),
                          pdf=False)
    html = result.files[0].html.read_text(encoding="utf-8")
    assert NOT_AVAILABLE in section(html, 7)
    assert "cure_rates" not in result.files[0].charts and "tiers" in result.files[0].charts
    assert section(html, 9).count(NOT_AVAILABLE) == 1  # cure rates only
    assert result.data.pd_source == "chain"


def test_a_month_end_night_also_gets_the_month_end_edition(warehouse, report_book, tmp_path):
    from tests.report.conftest import MONTH_END

    result = build_report(warehouse, MONTH_END, tmp_path / "out", languages=("zh-CN",),
                          pdf=False)
    assert [(f.edition, f.html.name) for f in result.files] == [
        ("nightly", "risk_report.zh-CN.html"),
        ("month-end", "risk_report.month-end.zh-CN.html")]
    month_end = result.files[1].html.read_text(encoding="utf-8")
    words = strings()["zh-CN"]
    assert words["edition_month_end"] in month_end and 'id="section-11"' in month_end
    assert 'id="section-11"' not in result.files[0].html.read_text(encoding="utf-8")


def test_a_range_reports_its_last_night_with_a_book(warehouse, report_book):
    from datetime import timedelta

    from pipelines.lib.report.figures import latest_book_night

    night = report_book.night
    assert latest_book_night(warehouse, report_book.first_night, night + timedelta(days=2)) == night
    # a skipped night (no file) in the middle of the book: the night before it with a file
    assert latest_book_night(warehouse, report_book.first_night, night - timedelta(days=1)) == \
        night - timedelta(days=6)
    assert latest_book_night(warehouse, night + timedelta(days=1),
                             night + timedelta(days=5)) is None


def test_a_degraded_night_carries_the_notice_at_the_top_in_both_languages(warehouse, report_book,
                                                                         tmp_path):
    from pipelines.lib.model.degraded import Degraded, record

    night = report_book.night
    record(warehouse, [night], Degraded("scoring_failed", "ValueError: booster feature mismatch"))
    result = build_report(warehouse, night, tmp_path / "out", pdf=False)
    html = {f.language: f.html.read_text(encoding="utf-8") for f in result.files
            if f.edition == "nightly"}
    top = {language: page[:page.index('<nav class="toc">')] for language, page in html.items()}
    assert ("Scores unavailable tonight: scoring failed (ValueError: booster feature mismatch); "
            "tiers on delinquency bucket alone; high-risk and early-warning treatments not "
            "applied.") in top["en"]
    assert ("本日无模型评分：模型评分失败 (ValueError: booster feature mismatch)；"
            "催收层级仅按逾期阶段划分，未执行高风险及预警处置。") in top["zh-CN"]

    record(warehouse, [night], None, "v0001")  # the night rescored: no notice
    result = build_report(warehouse, night, tmp_path / "again", languages=("en",), pdf=False)
    assert 'class="degraded"' not in result.files[0].html.read_text(encoding="utf-8")
