"""Every lab on CUDA and on the CPU: a few hundred steps of each lab's default experiment on both devices, from
the same seed, printing the speed ratio and whether the results agree (the final loss and, where there is one,
the validation numbers, within a tolerance: GPU kernels are not bit-identical to CPU ones).

Run it on a machine with a GPU (``python bench/gpu_check.py``); without one it trains on the CPU only, says so and
exits 0. Last line: ``labs=<agreeing>/<run> speedup_median=<cuda steps/s ÷ cpu steps/s | na>``.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from core.jobs import build_seeded  # noqa: E402
from core.labs import LABS, lab  # noqa: E402

SKIP = {"compress"}  # works on another lab's trained model; covered through those labs


def run(name: str, device: str, steps: int) -> dict[str, float]:
    """Train lab ``name``'s default experiment for ``steps`` steps on ``device``; its speed and numbers."""
    os.environ["PLAYGROUND_DEVICE"] = device
    module = lab(name)
    config = module.Config().validate()
    trainer = build_seeded(functools.partial(module.make_trainer, config), getattr(config, "seed", 0))
    losses = []
    for _ in range(5):  # warm-up: kernels, allocator
        trainer.train_step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        out = trainer.train_step()
        if "loss" in out:  # an RL step before its replay buffer fills has none
            losses.append(out["loss"])
    if device == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    result = {"steps_per_s": steps / elapsed, "loss": statistics.fmean(losses[-20:]) if losses else float("nan")}
    evaluate = getattr(trainer, "evaluate", None)
    if evaluate is not None:
        result.update({k: v for k, v in evaluate().items() if isinstance(v, float)})
    return result


def agree(cpu: dict[str, float], gpu: dict[str, float], tolerance: float) -> list[str]:
    """Names of the numbers that differ by more than ``tolerance`` (relative, or absolute near zero)."""
    bad = []
    for key in ("loss", "val_loss", "val_accuracy"):
        if key in cpu and key in gpu:
            a, b = cpu[key], gpu[key]
            if abs(a - b) > tolerance * max(1.0, abs(a), abs(b)):
                bad.append(f"{key} {a:.4g} vs {b:.4g}")
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--tolerance", type=float, default=0.15, help="relative difference allowed")
    parser.add_argument("--labs", nargs="+", default=[n for n in LABS if n not in SKIP])
    args = parser.parse_args()
    torch.set_num_threads(1)
    cuda = torch.cuda.is_available()
    print(f"CUDA: {torch.cuda.get_device_name(0) if cuda else 'not available — CPU only'}; torch {torch.__version__}")
    ratios, ok, ran = [], 0, 0
    for name in args.labs:
        try:
            cpu = run(name, "cpu", args.steps)
            gpu = run(name, "cuda", args.steps) if cuda else None
        except Exception as exc:  # noqa: BLE001 - one lab's failure is reported, the others still run
            print(f"{name:12} FAILED: {type(exc).__name__}: {exc}")
            ran += 1
            continue
        ran += 1
        if gpu is None:
            print(f"{name:12} cpu {cpu['steps_per_s']:8.0f} steps/s  loss {cpu['loss']:.4f}")
            ok += 1
            continue
        ratio = gpu["steps_per_s"] / cpu["steps_per_s"]
        ratios.append(ratio)
        differences = agree(cpu, gpu, args.tolerance)
        ok += not differences
        print(f"{name:12} cpu {cpu['steps_per_s']:8.0f} steps/s  cuda {gpu['steps_per_s']:8.0f} steps/s  "
              f"×{ratio:5.2f}  {'agree' if not differences else 'DIFFER: ' + '; '.join(differences)}")
    speedup = f"{statistics.median(ratios):.2f}" if ratios else "na"
    print(f"labs={ok}/{ran} speedup_median={speedup}")


if __name__ == "__main__":
    main()
