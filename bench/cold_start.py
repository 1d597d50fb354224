"""Cold start: seconds from launching `streamlit run app.py` until the health endpoint answers and the
Home page HTML is served. Last line: ``cold_start_s=<x>`` (median of a few launches).

Streamlit runs the app script only when the first browser session connects (that is when torch is
imported), so where Chromium and Playwright are present the first fully rendered Home page is timed too.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return resp.read() if resp.status == 200 else None
    except OSError:
        return None


def first_render_s(base: str, t0: float) -> float | None:
    """Seconds from launch until Home's title is rendered in headless Chromium, or None without a browser."""
    import shutil

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not shutil.which("chromium"):
        return None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"),
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page()
        page.goto(base)
        page.get_by_role("heading", name="Deep Learning Playground").wait_for(timeout=60_000)
        elapsed = time.perf_counter() - t0
        browser.close()
    return elapsed


def one_launch() -> tuple[float, float, float | None]:
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true"], cwd=ROOT, env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        while get(f"{base}/_stcore/health") is None:
            if time.perf_counter() - t0 > 60:
                raise RuntimeError("no health answer within 60 s")
            time.sleep(0.05)
        health = time.perf_counter() - t0
        html = get(base + "/") or b""
        assert b"root" in html, "home HTML not served"
        served = time.perf_counter() - t0
        return health, served, first_render_s(base, t0)
    finally:
        proc.terminate()
        proc.wait(10)


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
