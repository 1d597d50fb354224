"""What a live page costs: one visitor trains the network builder's default network in headless Chromium.

1. **Training with the page open vs closed**: steps/s while the builder page is open and redrawing, and while the
   visitor is on Home (the run keeps training; the sidebar still shows its step). Target: open ≥ 0.5 × closed.
2. **Server CPU per redraw** of the network builder, the CNN lab and the sequence lab while they train: CPU
   seconds the web server process (not the workers) spends per second, divided by the page's live redraws per
   second.

The last line is ``open_vs_closed=<ratio> builder_ms=<server ms per redraw> cnn_ms=<…> sequence_ms=<…>``.
Browsers run on the same cores as the server and the workers, so these are the numbers of a crowded laptop.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.appserver import CHROMIUM_ARGS, chromium_path, free_port, start_app, stop_app, warm_up  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (not its children)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def sidebar_step(page) -> int:
    text = page.locator('[data-testid="stSidebar"]').inner_text()
    found = re.findall(r"step ([\d,]+)", text)
    return int(found[0].replace(",", "")) if found else 0  # the jobs list comes before the shelf


def page_step(page) -> int:
    box = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text("Step", exact=True))
    return int(box.locator('[data-testid="stMetricValue"]').first.inner_text().replace(",", ""))


def rate_while(page, seconds: float, read) -> float:
    """Steps per second of the visitor's job over ``seconds``, read by ``read(page)`` (page or sidebar)."""
    page.wait_for_timeout(2500)
    s0, t0 = read(page), time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    s1, t1 = read(page), time.monotonic()
    return (s1 - s0) / (t1 - t0)


def server_ms_per_redraw(page, server_pid: int, base: str, path: str, play: str, redraws_per_s: float,
                         seconds: float) -> float:
    page.goto(f"{base}/{path}")
    page.get_by_role("button", name=play).first.wait_for(timeout=90_000)
    page.wait_for_timeout(1500)
    page.get_by_role("button", name=play).first.click()
    page.wait_for_timeout(6000)  # first steps, worker warm
    c0, t0 = cpu_seconds(server_pid), time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    c1, t1 = cpu_seconds(server_pid), time.monotonic()
    page.get_by_role("button", name="Reset").first.click()
    return 1000 * (c1 - c0) / (t1 - t0) / redraws_per_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    proc = start_app(port)
    base = f"http://127.0.0.1:{port}"
    try:
        warm_up(base)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/network_builder")
            page.get_by_role("button", name="Play").first.wait_for(timeout=90_000)
            page.wait_for_timeout(1500)
            page.get_by_role("button", name="Play").first.click()
            page.wait_for_timeout(5000)
            opened = rate_while(page, args.seconds, page_step)
            page.get_by_role("link", name="Home").first.click()
            closed = rate_while(page, args.seconds, sidebar_step)
            print(f"builder default network: page open {opened:,.0f} steps/s, page closed {closed:,.0f} steps/s "
                  f"(ratio {opened / closed:.2f})", flush=True)
            page.goto(f"{base}/network_builder")
            page.wait_for_timeout(3000)
            reset = page.get_by_role("button", name="Reset").first
            if reset.is_enabled():  # the reloaded page may have reconnected to the session with the run
                reset.click()
            # builder: two 0.5 s panels and one 1.5 s panel; CNN lab: one 0.75 s panel; sequence lab: one 1 s
            ms = {
                "builder": server_ms_per_redraw(page, proc.pid, base, "network_builder", "Play", 2 / 0.5 + 1 / 1.5,
                                                args.seconds),
                "cnn": server_ms_per_redraw(page, proc.pid, base, "cnn_lab", "Train", 1 / 0.75, args.seconds),
                "sequence": server_ms_per_redraw(page, proc.pid, base, "sequence_lab", "Train", 1 / 1.0,
                                                 args.seconds),
            }
            for name, value in ms.items():
                print(f"{name}: {value:.1f} ms of server CPU per live redraw", flush=True)
            browser.close()
    finally:
        stop_app(proc)
    print(f"open_vs_closed={opened / closed:.2f} builder_ms={ms['builder']:.1f} cnn_ms={ms['cnn']:.1f} "
          f"sequence_ms={ms['sequence']:.1f}")


if __name__ == "__main__":
    main()
