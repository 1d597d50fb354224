"""Start `streamlit run app.py` on a free local port (shared by the benchmarks and the e2e tests)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


def start_app(port: int, env: dict[str, str] | None = None, timeout_s: float = 60) -> subprocess.Popen:
    """Launch the app and return once its health endpoint answers."""
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true"]
    inherited = {k: v for k, v in os.environ.items() if k != "PLAYGROUND_BACKEND"}  # the server's own default
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**inherited, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while not healthy(f"http://127.0.0.1:{port}"):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(f"streamlit did not start within {timeout_s:.0f} s")
        time.sleep(0.05)
    return proc


def warm_up(base: str, timeout_s: float = 60) -> None:
    """Open Home once in a headless Chromium, as a first visitor would.

    Until ``app.py`` has run once, Streamlit decides from the mere existence of the ``pages/`` folder that the app
    uses its older pages-folder mode, and answers a deep link as the server's very first request with a
    "Page not found" notice (the page itself still opens through ``app.py``). Tests that open pages directly warm
    the server up first, like a deployment's first visit.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(base)
        page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=timeout_s * 1000)
        browser.close()


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def chromium_path() -> str | None:
    return shutil.which("chromium")
