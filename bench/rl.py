"""RL lab: the agent learns, with the page's default settings, on one CPU thread.

1. Gridworld (default 8 × 8 maze, DQN): environment steps and CPU seconds until the greedy policy equals the
   optimal policy from value iteration in every cell (ties count as optimal). Target: it does.
2. CartPole-v1 (default settings, DQN): CPU seconds until the moving average of the training episodes' returns
   over 100 episodes reaches 195. Target: ≤ 120 s. Baseline: a uniformly random policy's average return.
3. (``--others``) REINFORCE with baseline and A2C on CartPole with the same seed: seconds to the same mark.
4. (``--push``) each algorithm trained for the whole budget: the best moving average it reaches (500 is the most).

Seconds are process CPU seconds (``time.process_time``), robust on a shared machine.
Last line: ``cartpole_return=<moving average over 100 episodes> seconds=<s> grid_optimal=<0|1>``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.labs import rl  # noqa: E402


def gridworld(config: rl.Config, budget_s: float, check_every: int = 500) -> dict[str, float]:
    trainer = rl.make_trainer(config)
    start = time.process_time()
    match = rl.grid_map(trainer).match
    while match < 1.0 and time.process_time() - start < budget_s and not trainer.done:
        trainer.train_step()
        if trainer.env_steps % check_every == 0:
            match = rl.grid_map(trainer).match
    seconds = time.process_time() - start
    greedy = rl.greedy_episode(trainer)
    return {"steps": trainer.env_steps, "episodes": len(trainer.returns), "seconds": seconds, "match": match,
            "greedy_return": greedy.total, "greedy_steps": greedy.length}


def cartpole(config: rl.Config, budget_s: float, target: float = rl.SOLVED_RETURN) -> dict[str, float]:
    trainer = rl.make_trainer(config)
    start, wall = time.process_time(), time.perf_counter()
    avg = best = 0.0
    while time.process_time() - start < budget_s and not trainer.done:
        out = trainer.train_step()
        if "return_avg" in out and len(trainer.returns) >= rl.AVERAGE_WINDOW:
            avg = out["return_avg"]
            best = max(best, avg)
            if avg >= target:
                break
    if len(trainer.returns) < rl.AVERAGE_WINDOW:
        avg = float(np.mean(trainer.returns)) if trainer.returns else 0.0
    return {"steps": trainer.env_steps, "episodes": len(trainer.returns), "seconds": time.process_time() - start,
            "wall_s": time.perf_counter() - wall, "avg": avg, "best": best, "reached": avg >= target}


def random_return(episodes: int = 200, seed: int = 0) -> float:
    env = rl.make_env(rl.Config(env="cartpole"))
    rng = np.random.default_rng(seed)
    totals = []
    env.reset(seed=seed)
    for _ in range(episodes):
        env.reset()
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(int(rng.integers(2)))
            total += reward
            done = terminated or truncated
        totals.append(total)
    return float(np.mean(totals))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=float, default=120.0, help="CPU seconds allowed for CartPole")
    parser.add_argument("--grid-budget", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--others", action="store_true", help="also time REINFORCE and A2C on CartPole")
    parser.add_argument("--push", action="store_true", help="train each algorithm for the whole budget")
    args = parser.parse_args()
    torch.set_num_threads(1)

    grid = gridworld(replace(rl.Config(), seed=args.seed), args.grid_budget)
    print(f"gridworld dqn: optimal in {100 * grid['match']:.0f} % of cells after {grid['steps']:,} steps "
          f"({grid['episodes']:,} episodes, {grid['seconds']:.1f} s); greedy walk from the start: "
          f"{grid['greedy_steps']} steps, return {grid['greedy_return']:.2f}", flush=True)

    baseline = random_return(seed=args.seed)
    print(f"cartpole random policy: average return {baseline:.1f}", flush=True)
    config = replace(rl.Config(env="cartpole"), seed=args.seed)
    cart = cartpole(config, args.budget)
    print(f"cartpole dqn: moving average {cart['avg']:.1f} ({cart['avg'] / baseline:.1f}× random) after "
          f"{cart['steps']:,} steps, {cart['episodes']:,} episodes, {cart['seconds']:.1f} CPU s "
          f"({cart['wall_s']:.1f} s wall)", flush=True)
    if args.others:
        for algorithm in ("reinforce", "a2c"):
            other = cartpole(replace(config, algorithm=algorithm), args.budget)
            print(f"cartpole {algorithm}: moving average {other['avg']:.1f} after {other['steps']:,} steps, "
                  f"{other['episodes']:,} episodes, {other['seconds']:.1f} CPU s "
                  f"({other['seconds'] / max(cart['seconds'], 1e-9):.2f}× DQN's time)", flush=True)
    if args.push:
        for algorithm in rl.ALGORITHMS:
            run = cartpole(replace(config, algorithm=algorithm), args.budget, target=float("inf"))
            print(f"cartpole {algorithm} for {run['seconds']:.0f} CPU s: best moving average {run['best']:.1f}, "
                  f"last {run['avg']:.1f} after {run['steps']:,} steps", flush=True)
    print(f"cartpole_return={cart['avg']:.1f} seconds={cart['seconds']:.1f} grid_optimal={int(grid['match'] >= 1.0)}")


if __name__ == "__main__":
    main()
