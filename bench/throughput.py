"""Training throughput of N network-builder jobs at once on each job backend (no browser).

For N = 1, 2, 5, 10, 20 spiral-preset jobs: steps/s per job and in total, for the ``thread`` backend (every job a
thread of this interpreter), the ``process`` backend (worker processes, one per core) and, when ray is installed,
``ray`` (a local ``ray.init()``). Each round trains for ``--seconds`` after a warm-up and counts the steps.

The last line is ``single=<steps/s of one job> threads_total=<x> process_total=<y> ray_total=<z|na>`` at N = 10
(``single``: one job alone on the thread backend, the baseline). Target: ``process_total ≥ 0.8 × cores × single``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from core.jobs import JobManager  # noqa: E402
from core.labs import planar  # noqa: E402


def make(name: str):
    if name == "thread":
        return JobManager(capacity=64)
    if name == "process":
        from core.workers import RemoteManager

        manager = RemoteManager(capacity=64, per_session=64)
    else:
        from core.ray_workers import ray_manager

        manager = ray_manager("local", capacity=64, per_session=64)
    manager.wait_ready(300)
    return manager


def measure(manager, n: int, seconds: float, warm: float = 2.0) -> list[float]:
    """Steps/s of each of ``n`` jobs training at once."""
    config = planar.PRESETS[planar.SPIRAL_PRESET]
    jobs = [manager.submit(f"bench-{i}", planar.make_job(config)) for i in range(n)]
    deadline = time.monotonic() + 120
    while any(j.snapshot(page=False).step == 0 for j in jobs) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(warm)
    start = [j.snapshot(page=False).step for j in jobs]
    t0 = time.monotonic()
    time.sleep(seconds)
    end = [j.snapshot(page=False).step for j in jobs]
    elapsed = time.monotonic() - t0
    for i, j in enumerate(jobs):
        manager.discard(f"bench-{i}", j)
    return [(b - a) / elapsed for a, b in zip(start, end, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1, 2, 5, 10, 20])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--backends", nargs="+", default=["thread", "process", "ray"])
    args = parser.parse_args()
    try:
        import ray  # noqa: F401
    except ImportError:
        args.backends = [b for b in args.backends if b != "ray"]
    cores = os.cpu_count() or 1
    totals: dict[str, dict[int, float]] = {}
    print(f"{cores} cores; spiral preset ({planar.PRESETS[planar.SPIRAL_PRESET].label()}); {args.seconds:g} s rounds")
    print(f"{'backend':8} {'N':>3} {'per job':>9} {'total':>9}")
    for name in args.backends:
        manager = make(name)
        totals[name] = {}
        for n in args.n:
            rates = measure(manager, n, args.seconds)
            totals[name][n] = sum(rates)
            print(f"{name:8} {n:>3} {sum(rates) / n:>9.0f} {sum(rates):>9.0f}", flush=True)
        if hasattr(manager, "close"):
            manager.close()
    single = totals.get("thread", {}).get(1) or measure(JobManager(), 1, args.seconds)[0]
    at = 10 if 10 in args.n else max(args.n)
    process = totals.get("process", {}).get(at)
    print(f"target process_total >= 0.8 x {cores} cores x single = {0.8 * cores * single:.0f}: "
          f"{'met' if process and process >= 0.8 * cores * single else 'missed'}")
    ray_total = totals.get("ray", {}).get(at)
    print(f"single={single:.0f} threads_total={totals.get('thread', {}).get(at, float('nan')):.0f} "
          f"process_total={process or float('nan'):.0f} ray_total={f'{ray_total:.0f}' if ray_total else 'na'}")


if __name__ == "__main__":
    main()
