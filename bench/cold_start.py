"""Cold start: seconds from launching `streamlit run app.py` until the health endpoint answers and the
Home page HTML is served. Last line: ``cold_start_s=<x>`` (median of a few launches).

Streamlit runs the app script only when the first browser session connects (that is when torch is
imported), so where Chromium and Playwright are present the first fully rendered Home page is timed too.
"""

from __future__ import annotations

import statistics
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.appserver import CHROMIUM_ARGS, chromium_path, free_port, healthy, start_app, stop_app  # noqa: E402

RUNS = 3


def get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return resp.read() if resp.status == 200 else None
    except OSError:
        return None


def first_render_s(base: str, t0: float) -> float | None:
    """Seconds from launch until Home's title is rendered in headless Chromium, or None without a browser."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not chromium_path():
        return None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(base)
        page.get_by_role("heading", name="Deep Learning Playground").wait_for(timeout=60_000)
        elapsed = time.perf_counter() - t0
        browser.close()
    return elapsed


def one_launch() -> tuple[float, float, float | None]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    proc = start_app(port)
    try:
        health = time.perf_counter() - t0
        assert healthy(base)
        html = get(base + "/") or b""
        assert b"root" in html, "home HTML not served"
        served = time.perf_counter() - t0
        return health, served, first_render_s(base, t0)
    finally:
        stop_app(proc)


def main() -> None:
    results = [one_launch() for _ in range(RUNS)]
    health = statistics.median(r[0] for r in results)
    served = statistics.median(r[1] for r in results)
    print(f"health endpoint: {health:.2f} s (median of {RUNS})")
    print(f"home HTML served: {served:.2f} s")
    renders = [r[2] for r in results if r[2] is not None]
    if renders:
        print(f"first Home render in Chromium (script run, torch import included): {statistics.median(renders):.2f} s")
    print(f"cold_start_s={served:.2f}")


if __name__ == "__main__":
    main()
