"""Attention lab in a real Chromium: train reversal and watch the heatmaps turn into an anti-diagonal; train the
GPT-style model and generate text from it."""

import re
import time

import pytest

from tests.e2e.conftest import assert_no_exception, open_page, wait_until_idle

pytestmark = pytest.mark.e2e
HEATMAPS = ".st-key-att_fig_heatmaps .js-plotly-plot"


def _heatmaps(page) -> list[list[list[float]]]:
    """The z values of every heatmap trace drawn (layer by layer, head by head)."""
    return page.evaluate(f"""() => document.querySelector('{HEATMAPS}').data.map(t => {{
        const z = t.z._inputArray ?? t.z;  // plotly.py may send the values as a typed array
        return Array.from(z, row => Array.from(row));
    }})""")


def _anti_diagonal(maps: list[list[list[float]]], heads: int) -> float:
    """Mean weight of the last layer's heads on key T−1−i for query i."""
    last = maps[-heads:]
    n = len(last[0])
    return sum(m[i][n - 1 - i] for m in last for i in range(n)) / (heads * n)


def _wait_finished(main, timeout_s: float = 180) -> None:
    main.get_by_text(re.compile(r"^finished$")).first.wait_for(timeout=timeout_s * 1000)


def test_training_reversal_turns_the_heatmaps_into_an_anti_diagonal(page, app_url, tmp_path):
    open_page(page, app_url, "attention_lab?steps=250", "Attention lab: BERT vs GPT, live")
    main = page.locator('[data-testid="stMain"]')
    page.locator(HEATMAPS).first.wait_for(timeout=60_000)
    before = _heatmaps(page)  # the untrained model: nearly uniform attention
    assert len(before) == 4 and len(before[0]) == 8  # 2 layers × 2 heads, 8 digits
    assert _anti_diagonal(before, 2) < 0.4
    main.get_by_role("radio", name="Fastest", exact=True).click()
    main.get_by_role("button", name="Train", exact=True).click()
    _wait_finished(main)
    deadline = time.monotonic() + 30  # the panel draws the finished run's view once more
    while _anti_diagonal(_heatmaps(page), 2) < 0.8:
        assert time.monotonic() < deadline, _anti_diagonal(_heatmaps(page), 2)
        page.wait_for_timeout(500)
    after = _heatmaps(page)
    assert after != before
    page.screenshot(path=str(tmp_path / "attention_reversal.png"))
    main.get_by_role("radio", name="Scores Q·Kᵀ/√d (before softmax)").click()  # the scores before the softmax
    main.locator(HEATMAPS, has_text="before the softmax").first.wait_for(timeout=30_000)
    main.get_by_role("radio", name="Training", exact=True).click()
    main.locator(".st-key-att_fig_race .js-plotly-plot").first.wait_for(timeout=30_000)
    main.get_by_text("100.0%").first.wait_for(timeout=30_000)  # token accuracy on held-out sequences
    assert "done=first.reversal" in page.url  # the lesson's challenge ticked itself off on this run
    assert_no_exception(page)


def test_the_gpt_style_model_generates_text(page, app_url):
    open_page(page, app_url, "attention_lab?task=causal_lm&width=32&heads=2&ctx=16&batch=16&steps=60&gen=80"
              "&prompt=The&topk=10", "Attention lab: BERT vs GPT, live")
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text(re.compile("each query sees itself and the past")).wait_for(timeout=60_000)
    main.get_by_role("button", name="Train", exact=True).click()
    _wait_finished(main)
    main.get_by_role("radio", name="Generate", exact=True).click()
    wait_until_idle(page)
    main.locator(".st-key-att_fig_next_token .js-plotly-plot").first.wait_for(timeout=60_000)
    main.get_by_role("button", name="Generate", exact=True).click()
    main.get_by_text(re.compile(r"Generated at step 60 \(80 characters")).wait_for(timeout=60_000)
    text = main.locator(".st-key-att_generated_text").inner_text()
    assert text.startswith("The") and len(text) >= 3 + 80, text
    assert "?task=causal_lm" in page.url and "gen=80" in page.url and "topk=10" in page.url
    assert_no_exception(page)
