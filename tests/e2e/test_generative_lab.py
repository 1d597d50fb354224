"""Generative lab in a real Chromium: "Step G only" on the untrained 2-D GAN moves its generated points a little
without counting a step; resumed, the GAN trains and the live plane follows it (a later step in its title, the
points elsewhere).

The plane is read from the figure Plotly drew in the browser, so the test sees what a visitor sees. Training runs in
a worker process and the browser redraws a large figure twice a second: on a busy machine both are slow, so every
wait is for a condition with a generous deadline, never for a fixed time."""

import re
import time

import numpy as np
import pytest

from tests.e2e.conftest import assert_no_exception, open_page

pytestmark = pytest.mark.e2e

GENERATED = """(el) => {
    const gd = el.querySelector('.js-plotly-plot');
    const trace = gd && (gd._fullData || []).find(t => t.name === 'generated');
    return trace ? [Array.from(trace.x), Array.from(trace.y), gd.layout.title.text] : null;
}"""


def _plane(page, timeout_s: float = 90) -> tuple[np.ndarray, int]:
    """The purple points of the plane as drawn now, and the step its title names."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = page.locator(".st-key-gen_plane").first.evaluate(GENERATED)
        if found:
            x, y, title = found
            named = re.search(r"Step ([\d,]+)", title or "")
            assert named, title
            return np.stack([x, y], axis=1), int(named.group(1).replace(",", ""))
        assert time.monotonic() < deadline, "no generated points on the plane"
        page.wait_for_timeout(250)


def _wait_for_plane(page, ok, what: str, timeout_s: float = 90) -> tuple[np.ndarray, int]:
    """The plane once ``ok(points, step)`` holds (the live panel redraws it on its own schedule)."""
    deadline = time.monotonic() + timeout_s
    while True:
        points, step = _plane(page)
        if ok(points, step):
            return points, step
        assert time.monotonic() < deadline, f"{what}: step {step}"
        page.wait_for_timeout(400)


def _status_step(main) -> int:
    """The step count the job's status line shows (``paused · step 0 · 0.1 s``)."""
    status = main.get_by_text(re.compile(r"^(paused|running) · step [\d,]+")).first.inner_text()
    return int(re.search(r"step ([\d,]+)", status).group(1).replace(",", ""))


def test_step_g_only_moves_the_points_a_little_then_the_gan_trains_and_the_plane_follows(page, app_url):
    open_page(page, app_url, "generative_lab?steps=100000", "Generative lab: GANs and autoencoders")
    main = page.locator('[data-testid="stMain"]')
    untrained, step = _plane(page)
    assert step == 0 and len(untrained) == 400

    # one step of the generator alone, on a paused run started for it: the points move, no step is counted
    main.get_by_role("button", name="Step G only", exact=True).click(timeout=60_000)
    main.get_by_text(re.compile(r"D × 0, G × 1")).wait_for(timeout=90_000)
    nudged, step = _wait_for_plane(page, lambda p, s: not np.allclose(p, untrained), "Step G only moved nothing")
    assert step == 0 and _status_step(main) == 0
    assert np.abs(nudged - untrained).max() < 1.0  # one small step, not a jump

    # resumed, it trains: the live plane names later steps and its points have moved on
    main.get_by_role("button", name="Resume", exact=True).click(timeout=60_000)
    main.get_by_text("running").first.wait_for(timeout=60_000)
    _, step = _wait_for_plane(page, lambda p, s: s >= 20 and np.abs(p - nudged).mean() > 0.05,
                              "the plane does not follow the run", timeout_s=120)
    assert step >= 20
    assert_no_exception(page)
