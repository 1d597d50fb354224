"""Many visitors at once: start the app on a local port and drive N real browser sessions (headless
Chromium contexts) that each open the network builder with their own seed, press Play, train until their
step counter passes a target, pause, and read their own numbers back. The browsers run on the same machine
as the server, so the server's share of the CPU ("server cores") is printed too.

For each N it reports server RSS, RSS per extra session, steps/s per job, how many jobs waited in the
queue and for how long, whether every session finished with its own result (its sidebar lists exactly
one job: its own), and the live-view latency: how old the numbers on the page are when a visitor reads them.
The page shows the job's training time and the browser knows when it pressed Play, so each reading gives
``read time − Play time − training time`` = (Play → first step) + (age of the numbers). Per session the smallest
such value is taken as its start delay ("start s"), and the latency is each reading's excess over it (so the
freshest reading of a session counts as age 0: a lower bound by at most that reading's own age). Last line:
``sessions=<max N held> rss_per_session_mb=<x>``.

    python bench/concurrent_sessions.py            # N = 1, 5, 10, 20
    python bench/concurrent_sessions.py 1 5        # other N
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.appserver import CHROMIUM_ARGS, chromium_path, free_port, start_app, stop_app, warm_up  # noqa: E402

TARGET_STEPS = 300
TIMEOUT_S = 300


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the server process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text(label, exact=True))
    return box.locator('[data-testid="stMetricValue"]').first.inner_text(timeout=10_000)


def step_count(page) -> int:
    try:
        return int(metric(page, "Step").replace(",", ""))
    except Exception:  # noqa: BLE001 - the panel is redrawing
        return -1


def run_round(browser, base: str, pid: int, n: int) -> dict:
    contexts = [browser.new_context(viewport={"width": 1300, "height": 900}) for _ in range(n)]
    pages = [c.new_page() for c in contexts]
    for i, page in enumerate(pages):
        page.goto(f"{base}/network_builder?data=spiral&layers=8,8&seed={100 + i}&speed=fastest")
    for page in pages:
        page.get_by_role("heading", name="Network builder").wait_for(timeout=120_000)
        page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=120_000)
    rss_open = rss_mb(pid)
    t0, cpu0 = time.monotonic(), cpu_s(pid)
    clicked: dict[int, float] = {}
    for i, page in enumerate(pages):
        page.get_by_role("button", name="Play").click()
        clicked[i] = time.monotonic()
    offsets: dict[int, list[float]] = {}
    started: dict[int, float] = {}
    queued_seen: set[int] = set()
    done: dict[int, float] = {}
    rates: dict[int, float] = {}
    peak_rss = rss_open
    while len(done) < n and time.monotonic() - t0 < TIMEOUT_S:
        for i, page in enumerate(pages):
            if i in done:
                continue
            text = page.locator('[data-testid="stMain"]').inner_text(timeout=10_000)
            read_at = time.monotonic()
            if shown := re.search(r"running · step [\d,]+.*· ([\d.]+) s", text):
                offsets.setdefault(i, []).append(read_at - clicked[i] - float(shown.group(1)))
            if "in the queue" in text:
                queued_seen.add(i)
            if match := re.search(r"([\d,]+) steps/s", text):
                rates[i] = float(match.group(1).replace(",", ""))
            steps = step_count(page)
            if steps > 0 and i not in started:
                started[i] = time.monotonic() - t0
            if steps >= TARGET_STEPS:
                page.get_by_role("button", name="Pause").click()
                done[i] = time.monotonic() - t0
        peak_rss = max(peak_rss, rss_mb(pid))
        time.sleep(0.2)
    server_cores = (cpu_s(pid) - cpu0) / (time.monotonic() - t0)
    own_results = 0
    for page in pages:
        if page.locator('[data-testid="stException"]').count():
            continue
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        if sidebar.count("Network builder · ") == 1 and re.search(r"\d", metric(page, "Test accuracy")):
            own_results += 1
    for context in contexts:
        context.close()
    waits = [started[i] for i in queued_seen if i in started]
    ages = [x - min(v) for v in offsets.values() for x in v]
    return {
        "n": n, "rss_open": rss_open, "rss_peak": peak_rss, "finished": len(done), "own_results": own_results,
        "steps_per_s": sum(rates.values()) / max(1, len(rates)), "queued": len(queued_seen),
        "max_wait_s": max(waits, default=0.0), "slowest_s": max(done.values(), default=float("nan")),
        "server_cores": server_cores, "latency_s": statistics.median(ages) if ages else float("nan"),
        "start_s": statistics.median(min(v) for v in offsets.values()) if offsets else float("nan"),
    }


def main(ns: list[int]) -> None:
    from playwright.sync_api import sync_playwright

    port = free_port()
    proc = start_app(port)
    base = f"http://127.0.0.1:{port}"
    warm_up(base)  # a fresh server's first deep link shows "Page not found" (see bench/appserver.py)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            run_round(browser, base, proc.pid, 1)  # warm-up: imports, first optimizer, caches
            baseline = rss_mb(proc.pid)
            print(f"server RSS after warm-up: {baseline:.0f} MB")
            print(" N  finished  own  RSS-peak MB  MB/extra  steps/s/job  queued  max-wait s  slowest s  server cores"
                  "  latency s  start s")
            held, per_session = 0, float("nan")
            for n in ns:
                r = run_round(browser, base, proc.pid, n)
                extra = (r["rss_peak"] - baseline) / n
                print(f"{n:2d}  {r['finished']:8d}  {r['own_results']:3d}  {r['rss_peak']:11.0f}  {extra:8.1f}"
                      f"  {r['steps_per_s']:11.0f}  {r['queued']:6d}  {r['max_wait_s']:10.1f}  {r['slowest_s']:9.1f}"
                      f"  {r['server_cores']:12.2f}  {r['latency_s']:9.2f}  {r['start_s']:7.2f}")
                if r["finished"] == n and r["own_results"] == n and proc.poll() is None:
                    held, per_session = n, extra
            browser.close()
    finally:
        stop_app(proc)
    print(f"sessions={held} rss_per_session_mb={per_session:.1f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1, 5, 10, 20])
