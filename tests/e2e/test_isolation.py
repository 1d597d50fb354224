"""Two visitors at once: neither sees nor can stop the other's training job."""

import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import assert_no_exception, open_page, wait_until_idle

pytestmark = pytest.mark.e2e


def open_builder(context, app_url: str, seed: int):
    page = context.new_page()
    open_page(page, app_url, f"network_builder?data=xor&layers=4&speed=fastest&seed={seed}", "Network builder")
    return page


def step_count(page) -> int:
    box = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text("Step", exact=True))
    return int(box.locator('[data-testid="stMetricValue"]').first.inner_text(timeout=10_000).replace(",", ""))


def steps_so_far(page) -> int:
    """The step count, or 0 while the panel is being redrawn (a busy server redraws slowly)."""
    try:
        return step_count(page)
    except PlaywrightTimeout:
        return 0


def sidebar(page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text(timeout=10_000)


def wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def test_two_sessions_cannot_see_or_stop_each_other(browser, app_url):
    alice_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    bob_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        alice, bob = open_builder(alice_ctx, app_url, 1), open_builder(bob_ctx, app_url, 2)
        alice.get_by_role("button", name="Play", exact=True).click()
        wait_for(lambda: steps_so_far(alice) > 5, 90, "Alice's job to train")

        # Bob sees no job at all: nothing in his sidebar, step 0, nothing to pause or reset.
        bob.reload()
        wait_until_idle(bob, 60_000)
        assert "No training jobs yet." in sidebar(bob)
        assert step_count(bob) == 0
        assert bob.get_by_role("button", name="Pause", exact=True).is_disabled()
        assert bob.get_by_role("button", name="Reset", exact=True).is_disabled()

        # Bob trains and resets his own job; Alice's keeps running.
        bob.get_by_role("button", name="Play", exact=True).click()
        wait_for(lambda: steps_so_far(bob) > 5, 90, "Bob's job to train")
        bob.get_by_role("button", name="Reset", exact=True).click()
        wait_for(lambda: "No training jobs yet." in sidebar(bob), 20, "Bob's job to be gone")
        before = step_count(alice)
        wait_for(lambda: steps_so_far(alice) > before, 20, "Alice's job to keep training")
        assert sidebar(alice).count("Network builder · ") == 1  # one job row: her own

        # Alice pauses hers; Bob's new job is unaffected.
        bob.get_by_role("button", name="Play", exact=True).click()
        wait_for(lambda: steps_so_far(bob) > 5, 90, "Bob's second job to train")
        alice.get_by_role("button", name="Pause", exact=True).click()
        wait_for(lambda: alice.get_by_text("paused", exact=True).count() > 0, 10, "Alice's paused badge")
        before = step_count(bob)
        wait_for(lambda: steps_so_far(bob) > before, 20, "Bob's job to keep training after Alice paused")
        assert sidebar(bob).count("Network builder · ") == 1
        assert_no_exception(alice)
        assert_no_exception(bob)
    finally:
        alice_ctx.close()
        bob_ctx.close()
