"""Training-craft lab targets.

1. Optimizers on the Rosenbrock surface from the classic start (−1.2, 1): every optimizer of the registry at
   its tuned rate (the rate of a 1-2-5 grid that settles within 0.1 of the minimum (1, 1) in the fewest steps,
   staying there until the end of a 5,000-step run). Target: Adam settles in fewer steps than SGD.
2. Hyperparameter search on the digits MLP (learning rate, width, depth, dropout, batch size; 5 epochs on 600
   digits; median pruning): optuna's TPE against random search, the same trial budget, 5 sampler seeds. Target:
   the median over the seeds of TPE's best validation accuracy beats the median of random search's.

Run: ``python bench/training_craft.py``. One CPU thread; wall times on a shared machine are only indicative,
CPU seconds are ``time.process_time()``. Last line:
``adam_steps=<n> sgd_steps=<m> optuna_best=<x> random_best=<y> trials=<k>``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.labs import craft  # noqa: E402
from core.training import OPTIMIZERS  # noqa: E402

HORIZON = 5000
SEEDS = (0, 1, 2, 3, 4)


def optimizer_race() -> tuple[int, int]:
    t0 = time.process_time()
    tuned = craft.tune_rates("rosenbrock", steps=HORIZON)
    print(f"Rosenbrock from {craft.SURFACES['rosenbrock'].start}, {HORIZON} steps, rates tried: "
          f"{', '.join(f'{r:g}' for r in tuned.grid)}")
    for name, rate, steps in zip(tuned.names, tuned.rates, tuned.steps, strict=True):
        shown = f"settles in {steps} steps" if steps >= 0 else "does not settle"
        print(f"  {name:9s} tuned rate {rate:<7g} {shown}")
    rates = dict(zip(tuned.names, tuned.rates.tolist(), strict=True))
    view = craft.race("rosenbrock", craft.SURFACES["rosenbrock"].start, rates, HORIZON)
    replay = dict(zip(view.names, view.reached.tolist(), strict=True))
    same = all(replay[n] == s for n, s in zip(tuned.names, tuned.steps.tolist(), strict=True))
    print(f"  the lab's race at these rates settles at the same steps: {same}  ({time.process_time() - t0:.1f} CPU s)")
    steps = dict(zip(tuned.names, tuned.steps.tolist(), strict=True))
    adam, sgd = steps["Adam"], steps["SGD"]
    if adam >= 0 and sgd >= 0:
        print(f"  SGD needs {sgd / adam:.1f}× the steps of Adam")
    return adam, sgd


def search() -> tuple[float, float, int]:
    config = craft.PRESETS["search_tpe"]
    t0 = time.process_time()
    result = craft.compare_searches(config, methods=("tpe", "random"), seeds=SEEDS, budget=config.budget)
    print(f"Search: {config.budget} trials per search, {config.epochs} epochs on {config.subset} digits, "
          f"pruning {'on' if config.prune else 'off'}, seeds {list(SEEDS)}")
    for m, method in enumerate(result.methods):
        bests = " ".join(f"{b:.4f}" for b in result.best[m])
        print(f"  {method:6s} best per seed: {bests}   median {np.median(result.best[m]):.4f}")
    tpe, rnd = result.median("tpe"), result.median("random")
    wins = int((result.best[0] > result.best[1]).sum())
    ties = int((result.best[0] == result.best[1]).sum())
    print(f"  TPE better on {wins} of {len(SEEDS)} seeds, tied on {ties}; {time.process_time() - t0:.1f} CPU s")
    return tpe, rnd, config.budget


def main() -> None:
    torch.set_num_threads(1)
    print(f"optimizers in the registry: {', '.join(OPTIMIZERS)}")
    adam, sgd = optimizer_race()
    tpe, rnd, trials = search()
    print(f"targets: Adam fewer steps than SGD: {0 <= adam < sgd or (adam >= 0 > sgd)}; "
          f"TPE median best > random median best: {tpe > rnd}")
    print(f"adam_steps={adam} sgd_steps={sgd} optuna_best={tpe:.4f} random_best={rnd:.4f} trials={trials}")


if __name__ == "__main__":
    main()
