"""CNN lab target: the default preset on scikit-learn's digits reaches ≥ 97 % test accuracy in ≤ 20 s of CPU
training, driven through ``core.labs.vision.make_job`` exactly as the page does (the page's default settings, the
preset's recommended optimizer and learning rate, the thread count a job gets from the manager unless
``--threads`` says otherwise).

Prints one line per preset asked for (``--presets all`` trains every preset on digits and on the shapes set),
then, last, ``digits_acc=<test accuracy> seconds=<training wall time>`` for the default preset.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.data.images import ImageDataset, load_digits_dataset, load_shapes_dataset  # noqa: E402
from core.labs import vision  # noqa: E402

DIGITS_SIZE = 16
DEFAULT = vision.Config()  # the page's defaults: Tiny VGG, batch 64, 8 epochs, cosine decay


def train(ds: ImageDataset, source: str, name: str, threads: int, seed: int) -> tuple[float, float, int]:
    """Test accuracy, training seconds and steps of one run of preset ``name`` (a ``vision.PRESETS`` key)."""
    config = vision.Config(source=source, digit_size=DIGITS_SIZE, seed=seed).with_preset(name, training=True)
    job = vision.make_job(config, ds)
    job.threads = threads
    job.start()
    job.join()
    snap = job.snapshot()
    if snap.error:
        raise SystemExit(f"{name}: {snap.error}")
    result = job.inspect(vision.evaluation)
    return result.accuracy, snap.wall_s, snap.step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--presets", default="default",
                        help=f"'default', 'all' or comma-separated presets ({', '.join(vision.PRESETS)})")
    parser.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 1) // 2),
                        help="torch threads (the job manager gives each of cpu_count jobs one share)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    t0 = time.perf_counter()
    digits = load_digits_dataset(DIGITS_SIZE, seed=args.seed)
    print(f"digits {DIGITS_SIZE}×{DIGITS_SIZE}: {digits.split_sizes()} loaded in {time.perf_counter() - t0:.1f} s; "
          f"{args.threads} torch thread(s)")
    names = list(vision.PRESETS) if args.presets == "all" else (
        [] if args.presets == "default" else [n.strip() for n in args.presets.split(",")])
    for name in names:
        acc, seconds, steps = train(digits, "digits", name, args.threads, args.seed)
        print(f"digits   {vision.PRESETS[name]:<13} test_acc={acc:.4f} seconds={seconds:5.1f} steps={steps}")
    if args.presets == "all":
        shapes = load_shapes_dataset(seed=args.seed)
        for name in names:
            acc, seconds, steps = train(shapes, "shapes", name, args.threads, args.seed)
            print(f"shapes   {vision.PRESETS[name]:<13} test_acc={acc:.4f} seconds={seconds:5.1f} steps={steps}")
    acc, seconds, steps = train(digits, "digits", DEFAULT.preset, args.threads, args.seed)
    verdict = "OK" if acc >= 0.97 and seconds <= 20 else "MISSED"
    print(f"default preset {vision.PRESETS[DEFAULT.preset]}: {steps} steps, target ≥ 0.97 in ≤ 20 s: {verdict}")
    print(f"digits_acc={acc:.4f} seconds={seconds:.1f}")


if __name__ == "__main__":
    main()
