"""CNN lab in a real Chromium: train a few steps, see the filter grid change, draw a digit and get a prediction;
a shared address with its own architecture and training settings opens with those settings, and changing one
updates the address bar."""

import time
from urllib.parse import parse_qs, urlparse

import pytest

from core.labs import vision
from core.models.cnn import layer_table
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


def open_lab(page, app_url, query: str = ""):
    open_page(page, app_url, f"cnn_lab{query}", "CNN lab")


def test_training_changes_the_filter_grid_and_drawing_gets_a_prediction(page, app_url):
    open_lab(page, app_url, "?slow=1&epochs=40")  # slow motion, long enough to be still running when paused
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


SHARED = {"data": "digits", "size": "8", "preset": "resnet", "blocks": "8k3-none,r8k3-none,r16k3s2-none",
          "fc": "32,16", "bn": "0", "act": "gelu", "opt": "Momentum", "lr": "0.01", "batch": "32", "epochs": "5",
          "seed": "42"}


IN_ADDRESS = "([key, value]) => new URLSearchParams(location.search).get(key) === value"


def address(page) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


def wait_for(page, predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        page.wait_for_timeout(250)  # (lets Playwright take in what the page did meanwhile)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_shared_address_restores_the_network_and_training_and_edits_update_it(page, app_url):
    open_page(page, app_url, "cnn_lab?" + "&".join(f"{k}={v}" for k, v in SHARED.items()), "CNN lab")
    assert_no_exception(page)
    assert not page.locator('[data-testid="stAlert"]').filter(has_text="URL").count()  # nothing had to be fixed
    shown = {"fc_text": "32, 16", "epochs": "5", "seed": "42", "preset": "Tiny ResNet", "optimizer": "SGD + momentum",
             "activation": "GELU"}
    for key, value in shown.items():  # a widget may show its default for a moment while the page settles
        box = page.locator(f".st-key-cnn_{key} input")
        wait_for(page, lambda box=box, value=value: box.input_value() == value, 20, f"{key} = {value}")
    assert "0.01" in page.locator(".st-key-cnn_lr").inner_text()
    config = vision.Config.from_query(SHARED)[0]
    params = sum(r.params for r in layer_table(config.cnn(1, 8, 10)))  # the shared network, counted by hand
    metric = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text("Parameters", exact=True))
    assert metric.locator('[data-testid="stMetricValue"]').inner_text() == f"{params:,}"
    assert {k: address(page).get(k) for k in SHARED} == SHARED  # the address bar still holds the experiment

    wait_until_idle(page, 60_000)
    epochs = page.locator(".st-key-cnn_epochs input")
    epochs.fill("7")
    epochs.press("Enter")
    page.wait_for_function(IN_ADDRESS, arg=["epochs", "7"], timeout=60_000)
    wait_until_idle(page, 60_000)
    fc = page.locator(".st-key-cnn_fc_text input")
    fc.fill("24")
    fc.press("Enter")
    page.wait_for_function(IN_ADDRESS, arg=["fc", "24"], timeout=60_000)
    assert address(page)["blocks"] == SHARED["blocks"] and address(page)["seed"] == "42"
    assert_no_exception(page)
