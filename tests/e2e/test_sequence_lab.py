"""Sequence lab in a real Chromium: train an LSTM on the adding problem, open its gates and gradients."""

import re
import time

import pytest

from tests.e2e.conftest import assert_no_exception, open_page, wait_until_idle

pytestmark = pytest.mark.e2e


def _open_lab(page, app_url):
    open_page(page, app_url, "sequence_lab", "Sequence lab: RNN, LSTM and GRU")


def _view(page, name):
    page.locator('[data-testid="stMain"]').get_by_role("radio", name=name, exact=True).click()
    wait_until_idle(page)


def test_sequence_lab_trains_and_shows_gate_heatmaps(page, app_url, tmp_path):
    _open_lab(page, app_url)
    main = page.locator('[data-testid="stMain"]')
    main.get_by_role("button", name=re.compile("Train")).click()
    main.get_by_text(re.compile(r"running|finished")).first.wait_for(timeout=60_000)
    scatter = main.locator(".st-key-seq_adding .js-plotly-plot", has_text="predicted sum").last  # adding problem
    scatter.wait_for(timeout=60_000)
    page.wait_for_timeout(2_000)
    assert_no_exception(page)

    _view(page, "Gates")
    heatmaps = main.locator(".st-key-seq_gate_heatmaps .js-plotly-plot", has_text="forget gate f").last
    heatmaps.wait_for(timeout=60_000)
    titles = ("input gate i", "candidate g", "output gate o", "cell state c", "hidden state h")
    deadline = time.monotonic() + 30  # the live panel may be mid-redraw when first found
    while not all(title in heatmaps.inner_text() for title in titles):
        assert time.monotonic() < deadline, heatmaps.inner_text()
        page.wait_for_timeout(250)
    assert heatmaps.locator(".heatmaplayer").count() >= 1 or heatmaps.locator("image").count() >= 1
    main.get_by_text(re.compile(r"Marked numbers at steps \d+ and \d+")).wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "sequence_gates.png"), full_page=True)
    assert_no_exception(page)

    _view(page, "Gradients")
    for key, text in (("seq_grad_flow", "Error signal reaching each step"),
                      ("seq_grad_steps", "Global gradient norm per step")):
        main.locator(f".st-key-{key} .js-plotly-plot", has_text=text).last.wait_for(timeout=60_000)
    assert_no_exception(page)

    main.get_by_role("button", name="Reset", exact=True).click()
    wait_until_idle(page)
    assert_no_exception(page)


def test_sequence_lab_shared_link_in_chinese_restores_a_race_and_trains_it(page, app_url):
    """A copied address on a fresh server: Chinese page, the exploding-gradients race, settings kept in the URL."""
    open_page(page, app_url, "sequence_lab?lang=zh&cells=RNN,LSTM,GRU&init=3&opt=SGD&lr=0.1&steps=200",
              "序列实验室：RNN、LSTM 和 GRU")
    main = page.locator('[data-testid="stMain"]')
    assert "init=3" in page.url and "opt=SGD" in page.url and "lang=zh" in page.url
    main.get_by_role("button", name=re.compile("开始比赛")).click()
    main.get_by_text(re.compile(r"训练中|已完成")).first.wait_for(timeout=60_000)
    main.locator(".st-key-seq_adding .js-plotly-plot", has_text="预测的和").last.wait_for(timeout=60_000)
    assert "Start race" not in main.inner_text() and "Training" not in main.inner_text()
    assert_no_exception(page)
