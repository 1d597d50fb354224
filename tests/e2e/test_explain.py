"""Explain page in a real Chromium: the bundled CNN's maps render side by side, the trust tabs work, and a
drawing gets explained."""

import pytest

from tests.e2e.conftest import assert_no_exception, draw, open_page, wait_until_idle

pytestmark = pytest.mark.e2e

TRACES = """(key) => {
  const plot = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  if (!plot || !plot.data) return null;
  return plot.data.map(t => t.type);
}"""


def open_explain(page, app_url):
    open_page(page, app_url, "explain", "Explain: what did the model look at?")


def test_heatmaps_render_and_trust_checks_run(page, app_url):
    open_explain(page, app_url)
    page.wait_for_function(TRACES, arg="ex_maps", timeout=60_000)
    types = page.evaluate(TRACES, "ex_maps")
    assert types.count("heatmap") == 9  # the nine fast methods selected by default
    assert types.count("image") == 1 + 9  # the input and one overlay per method
    assert page.get_by_text("LayerGradCam").count() >= 1
    assert_no_exception(page)

    page.get_by_role("tab", name="Deletion curves").click()
    page.wait_for_function(TRACES, arg="ex_deletion_fig", timeout=60_000)
    assert page.evaluate(TRACES, "ex_deletion_fig").count("scatter") == 10  # 9 methods + random order
    page.get_by_role("tab", name="Sanity check").click()
    page.wait_for_function(TRACES, arg="ex_sanity_bars", timeout=90_000)
    page.get_by_text("Spearman rank correlation", exact=False).first.wait_for(timeout=10_000)
    assert_no_exception(page)


def test_a_drawing_is_explained(page, app_url):
    open_explain(page, app_url)
    page.get_by_text("Draw", exact=True).click()
    wait_until_idle(page, 60_000)
    draw(page, (110, 50), (112, 200))  # a "1"; the top ~40 px belong to the canvas toolbar
    page.get_by_role("heading", name="for your drawing?").wait_for(timeout=60_000)
    wait_until_idle(page, 60_000)
    assert page.evaluate(TRACES, "ex_maps").count("heatmap") == 9
    assert_no_exception(page)
