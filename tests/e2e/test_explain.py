"""Explain page in a real Chromium: the bundled CNN's maps render side by side, the trust tabs work, a drawing gets
explained, a model trained in a lab is explained from the shelf, and all of it in Chinese too."""

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
    page.wait_for_function(TRACES, arg="ex_maps", timeout=60_000)
    assert page.evaluate(TRACES, "ex_maps").count("heatmap") == 9
    assert_no_exception(page)


STEPS = """([label, minimum]) => {
  for (const box of document.querySelectorAll('[data-testid="stMetric"]')) {
    const name = box.querySelector('[data-testid="stMetricLabel"]');
    const value = box.querySelector('[data-testid="stMetricValue"]');
    if (name && value && name.innerText.trim() === label) return Number(value.innerText.replace(/,/g, '')) >= minimum;
  }
  return false;
}"""


BUILDER = {  # lang → builder heading, its step metric, the Explain link and heading, the model's description
    "en": ("Network builder", "Step", "Explain", "Explain: what did the model look at?", "The network you built",
           "One point"),
    "zh": ("神经网络搭建", "步数", "可解释性", "可解释性：模型看到了什么？", "你搭建的网络", "单个数据点"),
}


def _explain_a_builder_model(page, app_url, lang: str) -> None:
    """Train the network builder some steps, pause, then open Explain from the sidebar (same session): the model
    is on the shelf and explained as a feature table."""
    heading, step, link, explain, described, point = BUILDER[lang]
    open_page(page, app_url, f"network_builder?data=xor&layers=4&lang={lang}", heading)
    page.locator(".st-key-nb_job__play button").click()
    # the first run of a fresh server also starts the training workers: allow for a slow start
    page.wait_for_function(STEPS, arg=[step, 50], timeout=120_000, polling=500)
    page.locator(".st-key-nb_job__pause button").click()
    wait_until_idle(page, 30_000)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=link).click()
    page.get_by_role("heading", name=explain).wait_for(timeout=60_000)
    page.get_by_text(described, exact=False).first.wait_for(timeout=60_000)
    page.get_by_role("heading", name=point).wait_for(timeout=60_000)
    page.wait_for_function(TRACES, arg="ex_nb_point", timeout=60_000)
    assert_no_exception(page)


def test_a_model_trained_in_a_lab_is_explained_from_the_shelf(page, app_url):
    _explain_a_builder_model(page, app_url, "en")
    page.wait_for_function(TRACES, arg="ex_nb_features", timeout=60_000)
    assert page.evaluate(TRACES, "ex_nb_features") == ["bar", "bar"]
    # the source is in the link (written once the rerun ends); the model itself is this visit's
    page.wait_for_function("() => location.href.includes('model=shelf')", timeout=30_000)


def test_explain_in_chinese_with_a_lab_model_and_the_bundled_cnn(page, app_url):
    _explain_a_builder_model(page, app_url, "zh")
    page.get_by_text("内置的手写数字 CNN", exact=True).click()  # the bundled model
    page.wait_for_function(TRACES, arg="ex_maps", timeout=90_000)
    assert page.evaluate(TRACES, "ex_maps").count("heatmap") == 9
    page.get_by_role("heading", name="为什么测试图像", exact=False).wait_for(timeout=30_000)
    page.get_by_role("tab", name="删除曲线").click()
    page.wait_for_function(TRACES, arg="ex_deletion_fig", timeout=90_000)
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "归因" in main and "基线" in main and "Deletion curves" not in main and "Why" not in main
    # the address bar follows once the rerun has written it
    page.wait_for_function("() => ['lang=zh', 'check=deletion', 'model=bundled'].every(p => location.href.includes(p))",
                           timeout=30_000)
    assert_no_exception(page)
