"""Network builder in a real Chromium: Play trains (the loss shown changes), Pause freezes the step count,
and the URL carries the experiment (bad hand-edited values become warnings, not tracebacks)."""

import re
import time

import pytest

from tests.e2e.conftest import assert_no_exception, open_page, wait_until_idle

pytestmark = pytest.mark.e2e


def open_builder(page, app_url: str, query: str = "") -> None:
    open_page(page, app_url, f"network_builder{query}", "Network builder")


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text(label, exact=True))
    return box.locator('[data-testid="stMetricValue"]').first.inner_text(timeout=10_000)


def step_count(page) -> int:
    return int(metric(page, "Step").replace(",", ""))


def wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def test_play_trains_and_pause_freezes(page, app_url):
    open_builder(page, app_url, "?data=xor&layers=4&speed=fastest")
    assert_no_exception(page)
    assert step_count(page) == 0
    untrained = metric(page, "Training loss")
    page.get_by_role("button", name="Play").click()
    # the first run in a fresh server also imports torch's optimizer machinery: allow for a slow start
    wait_for(lambda: step_count(page) > 0, 90, "the first training steps")
    first = metric(page, "Training loss")
    wait_for(lambda: metric(page, "Training loss") not in (first, untrained), 30, "the shown loss to change")
    assert_no_exception(page)

    page.get_by_role("button", name="Pause").click()
    wait_for(lambda: page.get_by_text("paused", exact=True).count() > 0, 10, "the paused badge")
    time.sleep(1.0)  # let the panel draw the final numbers
    frozen, loss = step_count(page), metric(page, "Training loss")
    time.sleep(2.0)
    assert step_count(page) == frozen and metric(page, "Training loss") == loss
    assert frozen > 0
    assert re.search(r"[?&]data=xor", page.url) and "layers=4" in page.url
    page.get_by_role("button", name="Step").click()
    wait_for(lambda: step_count(page) == frozen + 1, 10, "exactly one more step")
    assert_no_exception(page)


def test_url_restores_the_experiment_and_reports_bad_values(page, app_url):
    open_builder(page, app_url, "?data=spiral&layers=8,3&act=ReLU&lr=fast&noise=900")
    assert_no_exception(page)
    def alerts():
        return page.locator('[data-testid="stAlert"]').all_inner_texts()

    wait_for(lambda: any("lr=fast" in a and "not a number" in a for a in alerts()), 15, f"the lr warning: {alerts()}")
    assert any("noise=900" in a and "using 50" in a for a in alerts()), alerts()
    wait_for(lambda: page.get_by_text("2 hidden layers").count() == 1, 15, "the layer editor")
    wait_for(lambda: "3 neurons" in page.locator('[data-testid="stMain"]').inner_text(), 15, "the 3-neuron layer")
    wait_for(lambda: "noise=50" in page.url and "lr=0.03" in page.url, 10, "the fixed values in the URL")
    assert_no_exception(page)


def test_a_chinese_lesson_walks_to_its_challenge_and_completes_it(page, app_url):
    """In Chinese: open the first lesson, go to the depth step, let it set the spiral up, train, and see the
    "spiral from raw x₁ and x₂ to 95 %" challenge tick itself off (and the link remember it)."""
    def url() -> str:  # read from the page itself: the address changes without a navigation
        return page.evaluate("() => decodeURIComponent(location.href)")

    open_page(page, app_url, "network_builder?lang=zh&lesson=first", "神经网络搭建")
    assert_no_exception(page)
    assert page.get_by_text("第 1/5 步", exact=False).count() >= 1
    for _ in range(3):
        page.get_by_role("button", name="下一步").click()
        page.wait_for_timeout(700)
    wait_for(lambda: page.get_by_text("第 4/5 步", exact=False).count() >= 1, 15, "step 4 of the lesson")
    wait_until_idle(page)
    assert "lstep=3" in url() and "lang=zh" in url()
    page.get_by_role("button", name="帮我设置").click()
    wait_for(lambda: "data=spiral" in url() and "layers=8,8,8" in url(), 15, "the spiral set up in the address bar")
    wait_until_idle(page)
    page.get_by_role("button", name="播放").click()
    wait_for(lambda: "done=first.spiral" in url(), 120, "the challenge to be met")
    wait_for(lambda: page.get_by_text("已完成 1/2 个挑战", exact=False).count() >= 1, 30, "the lesson's tally")
    assert_no_exception(page)
