import pytest

from tests.e2e.conftest import assert_no_exception, wait_until_idle
from ui.catalog import PAGES

pytestmark = pytest.mark.e2e


def test_home_renders_in_chromium(page, app_url, tmp_path):
    page.goto(app_url)
    wait_until_idle(page)
    page.get_by_role("heading", name="Deep Learning Playground").wait_for(timeout=20_000)
    assert page.title() == "Deep Learning Playground"
    assert_no_exception(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert "Device" in sidebar.inner_text()
    if len(PAGES) > 1:  # Streamlit hides the navigation while there is a single page
        assert page.locator('[data-testid="stSidebarNav"] a').count() == len(PAGES)
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
    assert (tmp_path / "home.png").stat().st_size > 10_000


def test_deep_link_on_a_fresh_server_goes_through_the_app_navigation(browser):
    """The very first request of a new server is a link straight to a page, not to Home."""
    from bench.appserver import free_port, start_app, stop_app

    port = free_port()
    proc = start_app(port)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"http://127.0.0.1:{port}/cnn_lab")
        page.get_by_role("heading", name="CNN lab").wait_for(timeout=60_000)
        assert "Device" in page.locator('[data-testid="stSidebar"]').inner_text(timeout=20_000)
        assert page.locator('[data-testid="stSidebarNav"] a').count() == len(PAGES)
        assert_no_exception(page)
        page.close()
    finally:
        stop_app(proc)
