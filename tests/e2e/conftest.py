"""A real `streamlit run app.py` on a free port, driven by headless Chromium through Playwright."""

from __future__ import annotations

import pytest

from bench.appserver import CHROMIUM_ARGS, chromium_path, free_port, start_app, stop_app, warm_up


@pytest.fixture(scope="session")
def app_url():
    port = free_port()
    # Jobs of closed test pages stop soon after nobody watches them, so they do not slow later tests down.
    proc = start_app(port, env={"PLAYGROUND_IDLE_TIMEOUT_S": "20"})
    if chromium_path() is not None:
        warm_up(f"http://127.0.0.1:{port}")
    yield f"http://127.0.0.1:{port}"
    stop_app(proc)


@pytest.fixture(scope="session")
def browser(app_url):  # after the server's warm-up, which runs its own Playwright (two cannot nest)
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_path()
    if executable is None:
        pytest.skip("Debian chromium is not installed")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


def wait_until_idle(page, timeout_ms: int = 30_000) -> None:
    """Wait for the app to render and for the script to stop running."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_timeout(500)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=timeout_ms)


def open_page(page, app_url: str, path: str, heading: str, timeout_ms: int = 90_000) -> None:
    """Open ``/<path>`` directly (deep links go through app.py's navigation) and wait until it has drawn."""
    page.goto(f"{app_url}/{path}")
    page.get_by_role("heading", name=heading).wait_for(timeout=timeout_ms)
    wait_until_idle(page, timeout_ms)


def draw(page, *points: tuple[float, float]) -> None:
    """Draw one stroke through ``points`` (pixels from the top-left corner) on the last canvas on the page."""
    canvas = page.locator("canvas").last
    canvas.wait_for(timeout=30_000)
    canvas.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    box = canvas.bounding_box()
    (x, y), rest = points[0], points[1:]
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.mouse.down()
    for x, y in rest:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=10)
    page.mouse.up()


def assert_no_exception(page) -> None:
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, boxes.first.inner_text()
