"""CNN lab in a real Chromium: train a few steps, see the filter grid change, draw a digit and get a prediction."""

import pytest

from tests.e2e.conftest import assert_no_exception, draw, open_page, wait_until_idle

pytestmark = pytest.mark.e2e

FILTER_DATA = """() => {
  const plot = document.querySelector('.st-key-cnn_filters .js-plotly-plot');
  if (!plot || !plot.data || !plot.data.length) return null;
  return JSON.stringify(plot.data[0].z);  // plotly's {dtype, bdata} or nested arrays: either changes with the weights
}"""
FILTER_STEP = r"""(minimum) => {
  const m = document.body.innerText.match(/Filters · step ([\d,]+)/);
  return m !== null && Number(m[1].replace(/,/g, '')) >= minimum;
}"""


def open_lab(page, app_url):
    open_page(page, app_url, "cnn_lab", "CNN lab")


def test_training_changes_the_filter_grid_and_drawing_gets_a_prediction(page, app_url):
    open_lab(page, app_url)
    page.get_by_text("random initialisation (before training)").wait_for(timeout=30_000)
    page.wait_for_function(FILTER_DATA, timeout=30_000)
    before = page.evaluate(FILTER_DATA)
    assert page.get_by_text("Conv arithmetic").count() == 1  # under the layer table

    page.locator(".st-key-cnn_job__play button").click()
    page.wait_for_function(FILTER_STEP, arg=12, timeout=120_000, polling=500)
    page.locator(".st-key-cnn_job__pause button").click()
    page.wait_for_timeout(1500)  # let the live panel redraw the paused state
    after = page.evaluate(FILTER_DATA)
    assert after is not None and after != before, "the first layer's filters did not change while training"
    assert_no_exception(page)

    page.get_by_role("tab", name="Draw to test").click()
    wait_until_idle(page, 60_000)
    draw(page, (80, 60), (200, 60), (120, 230))
    page.get_by_text("The network says").wait_for(timeout=30_000)
    page.locator('[data-testid="stImage"]').first.wait_for(timeout=10_000)  # the preprocessed input
    assert_no_exception(page)
    page.locator(".st-key-cnn_job__reset button").click()  # stop the job: the CPU is shared
