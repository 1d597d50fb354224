"""CNN lab target: the default preset on scikit-learn's digits reaches ≥ 97 % test accuracy in ≤ 20 s of CPU
training, driven through ``TrainingJob`` exactly as the page does (same settings, same thread count as a job
gets from the manager unless ``--threads`` says otherwise).

Prints one line per preset asked for (``--presets all`` trains every preset on digits and on the shapes set),
then, last, ``digits_acc=<test accuracy> seconds=<training wall time>`` for the default preset.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.data.images import ImageDataset, load_digits_dataset, load_shapes_dataset  # noqa: E402
from core.inspect.evaluation import evaluate_classifier  # noqa: E402
from core.models import MODELS  # noqa: E402
from core.models.cnn import DEFAULT_PRESET, preset, recommended_training  # noqa: E402
from core.vision import TrainSettings, make_cnn_job  # noqa: E402

DIGITS_SIZE = 16
DEFAULT_SETTINGS = TrainSettings()  # the page's defaults: batch 64, 8 epochs, cosine decay


def train(ds: ImageDataset, name: str, settings: TrainSettings, threads: int, seed: int) -> tuple[float, float, int]:
    """Test accuracy, training seconds and steps of one run."""
    config = preset(name, ds.channels, ds.size, ds.num_classes)
    optimizer, lr = recommended_training(name)  # as the page starts it: the preset's optimizer and rate
    settings = replace(settings, optimizer=optimizer, lr=lr)
    job = make_cnn_job(ds, config, settings, seed=seed, name=name)
    job.threads = threads
    job.start()
    job.join()
    snap = job.snapshot()
    if snap.error:
        raise SystemExit(f"{name}: {snap.error}")
    result = evaluate_classifier(job.trainer.model, ds.x_test, ds.y_test, ds.num_classes)
    return result.accuracy, snap.wall_s, snap.step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--presets", default="default", help="'default', 'all' or comma-separated preset names")
    parser.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 1) // 2),
                        help="torch threads (the job manager gives each of cpu_count jobs one share)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    t0 = time.perf_counter()
    digits = load_digits_dataset(DIGITS_SIZE, seed=args.seed)
    print(f"digits {DIGITS_SIZE}×{DIGITS_SIZE}: {digits.split_sizes()} loaded in {time.perf_counter() - t0:.1f} s; "
          f"{args.threads} torch thread(s)")
    names = MODELS.names("cnn") if args.presets == "all" else (
        [] if args.presets == "default" else [n.strip() for n in args.presets.split(",")])
    for name in names:
        acc, seconds, steps = train(digits, name, DEFAULT_SETTINGS, args.threads, args.seed)
        print(f"digits   {name:<13} test_acc={acc:.4f} seconds={seconds:5.1f} steps={steps}")
    if args.presets == "all":
        shapes = load_shapes_dataset(seed=args.seed)
        for name in names:
            acc, seconds, steps = train(shapes, name, DEFAULT_SETTINGS, args.threads, args.seed)
            print(f"shapes   {name:<13} test_acc={acc:.4f} seconds={seconds:5.1f} steps={steps}")
    acc, seconds, steps = train(digits, DEFAULT_PRESET, DEFAULT_SETTINGS, args.threads, args.seed)
    verdict = "OK" if acc >= 0.97 and seconds <= 20 else "MISSED"
    print(f"default preset {DEFAULT_PRESET}: {steps} steps, target ≥ 0.97 in ≤ 20 s: {verdict}")
    print(f"digits_acc={acc:.4f} seconds={seconds:.1f}")


if __name__ == "__main__":
    main()
