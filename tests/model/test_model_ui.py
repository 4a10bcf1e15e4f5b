"""In a real browser: the model's card figures, its gate and its monitoring checks in the Dagster UI."""

import pytest

from pipelines.cli import run_nights
from tests.model.conftest import END
from tests.model.test_model_assets import model_home  # noqa: F401  (fixture)
from tests.report.test_report_browser import browser, dagster_ui  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


def test_the_ui_shows_the_model_card_the_gate_and_the_monitoring_checks(model_home, browser):  # noqa: F811
    run_nights(END, END, ["model"])
    with dagster_ui(model_home) as url:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})

        page.goto(f"{url}/assets/delinquency_model?view=checks", wait_until="networkidle")
        page.get_by_text("champion_challenger_gate", exact=True).first.wait_for(
            state="attached", timeout=30_000)
        page.get_by_text("Succeeded").first.wait_for(timeout=30_000)

        page.goto(f"{url}/assets/delinquency_model?view=events", wait_until="networkidle")
        page.get_by_text("model_card", exact=True).first.wait_for(state="attached",
                                                                  timeout=30_000)
        events = page.locator("body").inner_text()
        for key in ("challenger", "auc", "gini", "ks", "training_rows", "champion"):
            assert key in events, key

        page.goto(f"{url}/assets/model_monitoring?view=checks", wait_until="networkidle")
        page.get_by_text("score_psi", exact=True).first.wait_for(state="attached",
                                                                 timeout=30_000)
        listing = page.locator("body").inner_text()
        for check in ("score_psi", "feature_psi", "auc_on_matured_labels",
                      "roll_rate_by_bucket"):
            assert check in listing, check
        page.close()
